package agi_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// TestFileListRefused checks that every command taking a sound file refuses
// a name joining several files with '&' before anything is sent: Asterisk
// would look for one file of that name and answer result=-1.
func TestFileListRefused(t *testing.T) {
	cmds := []struct {
		name string
		run  func(ctx context.Context, s *agi.Session) error
	}{
		{"GET DATA", func(ctx context.Context, s *agi.Session) error {
			_, err := s.GetData(ctx, "vm-incorrect&vm-password", time.Second, 4)
			return err
		}},
		{"GET DATA secret", func(ctx context.Context, s *agi.Session) error {
			_, err := s.GetSecretData(ctx, "vm-incorrect&vm-password", time.Second, 4)
			return err
		}},
		{"STREAM FILE", func(ctx context.Context, s *agi.Session) error {
			_, err := s.StreamFile(ctx, "vm-repeat&vm-next", "12")
			return err
		}},
		{"STREAM FILE secret", func(ctx context.Context, s *agi.Session) error {
			_, err := s.StreamSecretFile(ctx, "vm-repeat&vm-next", "12")
			return err
		}},
		{"CONTROL STREAM FILE", func(ctx context.Context, s *agi.Session) error {
			_, err := s.ControlStreamFile(ctx, agi.ControlStreamOptions{File: "a&b", EscapeDigits: "#"})
			return err
		}},
		{"GET OPTION", func(ctx context.Context, s *agi.Session) error {
			_, err := s.GetOption(ctx, "a&b", "12", time.Second)
			return err
		}},
		{"RECORD FILE", func(ctx context.Context, s *agi.Session) error {
			_, err := s.RecordFile(ctx, agi.RecordOptions{Path: "/tmp/a&b", EscapeDigits: "#"})
			return err
		}},
		{"Raw SPEECH RECOGNIZE", func(ctx context.Context, s *agi.Session) error {
			_, err := s.Raw(ctx, "SPEECH RECOGNIZE", "a&b", "1000")
			return err
		}},
		{"Raw STREAM FILE", func(ctx context.Context, s *agi.Session) error {
			_, err := s.Raw(ctx, "STREAM FILE", "a&b", "")
			return err
		}},
		{"Raw get data", func(ctx context.Context, s *agi.Session) error {
			_, err := s.Raw(ctx, "get", "data", "a&b")
			return err
		}},
	}
	errs := make(chan error, len(cmds)+1)
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		for _, c := range cmds {
			errs <- c.run(r.Context(), s)
		}
		// Still in step: a command with one file goes out and is answered.
		_, err := s.StreamFile(r.Context(), "vm-goodbye", "")
		errs <- err
	}))
	defer srv.Close()
	tr := srv.Run(t, agiclient.Call{})
	for _, c := range cmds {
		err := <-errs
		if !errors.Is(err, agi.ErrBadArgument) || !strings.Contains(err.Error(), "one sound file") {
			t.Errorf("%s with a '&' list: %v, want ErrBadArgument saying one sound file", c.name, err)
		}
	}
	if err := <-errs; err != nil {
		t.Errorf("STREAM FILE vm-goodbye after the refusals: %v", err)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].Command.Line != "STREAM FILE vm-goodbye \"\"" {
		var sent []string
		for _, st := range tr.Steps {
			sent = append(sent, st.Command.Line)
		}
		t.Errorf("sent %q, want only the STREAM FILE of one file", sent)
	}
}

// TestSecretPromptKeyIsMasked checks that the key interrupting a prompt
// played before a secret input, the input's first digit, is masked in the
// protocol debug log, and that replies without a key are logged as they are.
func TestSecretPromptKeyIsMasked(t *testing.T) {
	var logs syncBuffer
	keys := make(chan rune, 2)
	srv := agitest.NewUnstartedServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		pb, _ := s.StreamSecretFile(r.Context(), "vm-incorrect", "0123456789#")
		keys <- pb.Key
		pb, _ = s.StreamSecretFile(r.Context(), "vm-password", "0123456789#")
		keys <- pb.Key
		s.GetSecretData(r.Context(), "", time.Second, 3)
	}))
	srv.Config.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv.Start()
	defer srv.Close()
	srv.Run(t, agiclient.Call{Keys: []string{"7", "", ""}})
	srv.Close()
	if k1, k2 := <-keys, <-keys; k1 != '7' || k2 != 0 {
		t.Errorf("keys %q %q, want '7' and none", k1, k2)
	}
	out := logs.String()
	for _, leak := range []string{"result=55", "result=7"} {
		if strings.Contains(out, leak) {
			t.Errorf("the protocol log shows the key (%s):\n%s", leak, out)
		}
	}
	for _, want := range []string{`line="200 result=*** endpos=8000"`, `line="200 result=0 endpos=16000"`,
		`line="200 result= (timeout)"`, `line="GET DATA \"\" 1000 3"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the protocol log lacks %s:\n%s", want, out)
		}
	}
}
