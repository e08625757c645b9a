package ivr

import (
	"testing"
	"time"
)

func TestLockForGrows(t *testing.T) {
	cfg, err := Config{LockAfter: 3, LockBase: time.Minute, LockMax: 10 * time.Minute}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]time.Duration{0: 0, 2: 0, 3: time.Minute, 4: 2 * time.Minute, 5: 4 * time.Minute, 6: 8 * time.Minute, 7: 10 * time.Minute, 50: 10 * time.Minute}
	for failures, d := range want {
		if got := cfg.lockFor(failures); got != d {
			t.Errorf("lockFor(%d) = %v, want %v", failures, got, d)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LookupTimeout != 500*time.Millisecond || cfg.MenuKey != "main" || cfg.DefaultRegion != "US" ||
		cfg.MaxPINTries != 3 || cfg.Prompts.Incorrect != "vm-incorrect" || cfg.Prompts.SomethingWrong != "tt-somethingwrong" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	cfg, _ = Config{Prompts: Prompts{Incorrect: "custom-incorrect"}}.withDefaults()
	if cfg.Prompts.Incorrect != "custom-incorrect" || cfg.Prompts.Password != "vm-password" {
		t.Errorf("prompt override lost or defaults missing: %+v", cfg.Prompts)
	}
	if _, err := (Config{RecordingDir: "relative/dir"}).withDefaults(); err == nil {
		t.Error("a relative recording directory was accepted")
	}
}

func TestQuestionValid(t *testing.T) {
	digits := Question{AllowedDigits: "12345"}
	rng := Question{Range: &AnswerRange{Min: 0, Max: 10}}
	free := Question{}
	tests := []struct {
		q      Question
		answer string
		want   bool
	}{
		{digits, "3", true},
		{digits, "6", false},
		{digits, "12", false},
		{digits, "", false},
		{digits, "*", false},
		{rng, "0", true},
		{rng, "10", true},
		{rng, "07", true},
		{rng, "11", false},
		{rng, "*", false},
		{rng, "", false},
		{free, "0042", true},
		{free, "", false},
	}
	for _, tt := range tests {
		if got := tt.q.Valid(tt.answer); got != tt.want {
			t.Errorf("%+v.Valid(%q) = %v, want %v", tt.q, tt.answer, got, tt.want)
		}
	}
	if n := rng.maxDigits(); n != 2 {
		t.Errorf("range 0-10 maxDigits = %d, want 2", n)
	}
}

func TestResultEndReason(t *testing.T) {
	for res, want := range map[Result]EndReason{
		ResultCompleted: EndCompleted, ResultHangup: EndHangup, ResultAuthFailed: EndAuthFailed,
		ResultLocked: EndLockedOut, ResultTransfer: EndTransferred, ResultError: EndError,
	} {
		if got := res.endReason(); got != want {
			t.Errorf("%s.endReason() = %s, want %s", res, got, want)
		}
	}
}
