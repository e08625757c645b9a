package agi_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

func TestBasicCall(t *testing.T) {
	var got agi.Input
	var gotErr error
	reqc := make(chan *agi.Request, 1)
	mux := agi.NewServeMux()
	mux.HandleFunc("ivr/", func(s *agi.Session, r *agi.Request) {
		defer func() { reqc <- r }()
		ctx := r.Context()
		if err := s.Answer(ctx); err != nil {
			gotErr = err
			return
		}
		got, gotErr = s.GetData(ctx, "enter-account", 3*time.Second, 4)
		if gotErr != nil {
			return
		}
		gotErr = s.SetVariable(ctx, "ACCOUNT", got.Digits)
	})
	srv := agitest.NewServer(mux)
	defer srv.Close()
	tr := srv.Run(t, agiclient.Call{
		Script: "ivr/main?lang=es", Args: []string{"first", "mode=x"},
		Env:  map[string]string{"agi_callerid": "+15551230001"},
		Keys: []string{"0123#"},
	})
	req := <-reqc
	if gotErr != nil {
		t.Fatal(gotErr)
	}
	if got.Digits != "0123" || got.TimedOut {
		t.Errorf("input = %+v", got)
	}
	if want := []string{"ANSWER", "GET DATA", "SET VARIABLE"}; !slices.Equal(tr.Commands(), want) {
		t.Errorf("commands = %q, want %q", tr.Commands(), want)
	}
	if tr.Variables["ACCOUNT"] != "0123" {
		t.Errorf("variables = %v", tr.Variables)
	}
	if req.Pattern != "ivr/" || req.Script != "ivr/main" || req.Param("lang") != "es" || req.Param("mode") != "x" ||
		req.Arg(1) != "first" || req.CallerID != "+15551230001" || req.DNID != "" {
		t.Errorf("request = %+v", req)
	}
	if tr.HangupLines != 1 {
		t.Errorf("HANGUP lines after the end = %d, want 1", tr.HangupLines)
	}
}

func TestHangupDuringGetData(t *testing.T) {
	errc := make(chan error, 3)
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		_, err := s.GetData(r.Context(), "beep", time.Second, 4)
		errc <- err
		dctx := context.WithoutCancel(r.Context())
		errc <- s.Verbose(dctx, "after", 1)
		_, err = s.StreamFile(dctx, "beep", "")
		errc <- err
	}))
	defer srv.Close()
	tr := srv.Run(t, agiclient.Call{HangupAtStep: 1})
	if err := <-errc; !errors.Is(err, agi.ErrHangup) {
		t.Errorf("GetData: %v, want ErrHangup", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Verbose after hangup: %v", err)
	}
	if err := <-errc; !errors.Is(err, agi.ErrHangup) {
		t.Errorf("StreamFile after hangup: %v, want ErrHangup", err)
	}
	// The -1 comes before the HANGUP line, as from Asterisk: the session asks
	// CHANNEL STATUS (511) before it calls it a hangup.
	if want := []string{"GET DATA", "CHANNEL STATUS", "VERBOSE"}; !slices.Equal(tr.Commands(), want) {
		t.Errorf("commands = %q, want %q", tr.Commands(), want)
	}
}
