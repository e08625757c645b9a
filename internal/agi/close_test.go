package agi_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// TestCloseLetsTheHandlerSetAResult checks that a call closed by
// Server.Close while GET DATA waits can still tell the dialplan how it ended:
// the session ends the interrupted GET DATA with a command of its own
// (Asterisk answers nothing for it, or its reply comes late, first), then SET
// VARIABLE goes out and is answered; commands that need a live channel are
// not sent. It runs in a synctest bubble over an in-memory connection, so the
// close always comes while the late reply is still on its way.
func TestCloseLetsTheHandlerSetAResult(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply agiclient.Reply // the GET DATA's fate
	}{
		{"GET DATA aborted, never answered", agiclient.Reply{Fault: agiclient.NoReply}},
		{"GET DATA answered after the close", agiclient.Reply{Keys: "12", Delay: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got := make(chan string, 3)
				m := serveInMemory(&agi.Server{Handler: agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
					_, err := s.GetSecretData(r.Context(), "vm-password", 5*time.Second, 4)
					got <- fmt.Sprintf("get data: %v", err)
					dctx := context.WithoutCancel(r.Context())
					_, err = s.StreamFile(dctx, "tt-somethingwrong", "")
					got <- fmt.Sprintf("stream file: %v", err)
					got <- fmt.Sprintf("set variable: %v", s.SetVariable(dctx, "IVR_RESULT", "error"))
				})})
				defer m.stop(t)
				waiting := make(chan struct{})
				call := agiclient.Call{Responder: func(c agiclient.Command) agiclient.Reply {
					if c.Name == "GET DATA" {
						close(waiting)
						return tc.reply
					}
					return agiclient.Reply{}
				}}
				done := make(chan *agiclient.Transcript, 1)
				go func() {
					tr, err := m.run(call)
					if err != nil {
						t.Errorf("call: %v", err)
					}
					done <- tr
				}()
				<-waiting
				m.srv.Close()
				tr := <-done
				want := []string{
					"get data: " + agi.ErrServerClosed.Error(),
					"stream file: " + agi.ErrServerClosed.Error(),
					"set variable: <nil>",
				}
				for _, w := range want {
					if g := <-got; g != w {
						t.Errorf("%s, want %s", g, w)
					}
				}
				if v := tr.Variables["IVR_RESULT"]; v != "error" {
					t.Errorf("IVR_RESULT = %q, want error", v)
				}
				var sent []string
				for _, st := range tr.Steps {
					sent = append(sent, st.Command.Name)
				}
				if fmt.Sprint(sent) != "[GET DATA GET FULL VARIABLE SET VARIABLE]" {
					t.Errorf("sent %q, want GET DATA, the command that ends it, SET VARIABLE", sent)
				}
				if len(tr.Steps) > 0 && (tc.reply.Delay > 0) != (tr.Steps[0].Reply != "") {
					t.Errorf("GET DATA's reply %q; want one only when it comes late", tr.Steps[0].Reply)
				}
			})
		})
	}
}

// TestCloseWithNothingInFlight checks that a command after Close needs no
// extra command when no reply is due.
func TestCloseWithNothingInFlight(t *testing.T) {
	closed := make(chan struct{})
	errc := make(chan error, 1)
	var srv *agitest.Server
	srv = agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		srv.Config.Close()
		<-r.Context().Done()
		close(closed)
		errc <- s.SetVariable(context.WithoutCancel(r.Context()), "IVR_RESULT", "error")
	}))
	defer srv.Close()
	tr := srv.Run(t, agiclient.Call{})
	<-closed
	if err := <-errc; err != nil || tr.Variables["IVR_RESULT"] != "error" || len(tr.Steps) != 1 {
		t.Errorf("SET VARIABLE after Close: %v, IVR_RESULT %q, %d commands sent", err, tr.Variables["IVR_RESULT"], len(tr.Steps))
	}
}
