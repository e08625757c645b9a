package ivr

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/ivrhq/ivr/internal/agi"
)

// maxTakes bounds the takes of one recording: empty takes and re-recordings.
const maxTakes = 3

// Review choices after a take, as the stock vm-review sound says them: "to
// accept this recording press 1, to listen to it press 2, to re-record your
// message press 3".
const (
	reviewAccept   = "1"
	reviewListen   = "2"
	reviewRerecord = "3"
)

// recordPath is where Asterisk writes take n of this call, without extension:
// under RecordingDir, named after the uniqueid (with anything but letters,
// digits, '.', '-' and '_' replaced) so it never leaves the directory.
func (c *call) recordPath(n int) string {
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, c.r.UniqueID)
	return path.Join(c.app.cfg.RecordingDir, fmt.Sprintf("%s-%d-%d", id, c.seq+1, n))
}

// recordMessage records a message for the caller: intro and beep, RECORD FILE
// with the configured format, maximum length and silence detection, then the
// review (1 accept, 2 listen, 3 re-record). An empty take is offered again. The
// accepted take, or the take in progress when the caller hangs up, is saved.
func (c *call) recordMessage() error {
	cfg := c.app.cfg
	for take := 1; take <= maxTakes; take++ {
		if err := c.play(cfg.Prompts.RecordIntro); err != nil {
			return err
		}
		rec, err := c.recordTake(take)
		if err != nil {
			return err
		}
		if rec.EndPos == 0 && rec.Reason != RecordHangup {
			c.say(cfg.Prompts.NoMessage)
			continue
		}
		if rec.Reason == RecordHangup {
			return c.saveTakeAndHangup(rec)
		}
		accept, err := c.review(rec)
		if err != nil {
			return err
		}
		if accept {
			if err := c.saveRecording(rec); err != nil {
				return err
			}
			c.say(cfg.Prompts.Saved)
			return nil
		}
	}
	return nil
}

// recordTake runs one RECORD FILE and journals it.
func (c *call) recordTake(take int) (Recording, error) {
	cfg := c.app.cfg
	rec := Recording{
		CallID:   c.row.ID,
		CallerID: c.callerID(),
		Path:     c.recordPath(take),
		Format:   cfg.RecordFormat,
		Purpose:  PurposeMessage,
	}
	silence := cfg.RecordSilence
	if silence < 0 {
		silence = 0
	}
	got, err := c.s.RecordFile(c.ctx, agi.RecordOptions{
		Path:         rec.Path,
		Format:       rec.Format,
		EscapeDigits: "#",
		MaxDuration:  cfg.RecordMaxDuration,
		Silence:      silence,
		Beep:         true,
	})
	rec.EndPos = got.EndPos
	rec.Duration = got.Duration
	rec.Reason = RecordingReason(got.Reason)
	if err != nil {
		if c.isHangup(err) {
			// Asterisk keeps the partial file; its endpos came with the hangup.
			rec.Reason = RecordHangup
			return rec, c.journalTake(rec)
		}
		return rec, c.commandFailed("", err)
	}
	if got.Key != 0 {
		rec.Key = string(got.Key)
	}
	switch rec.Reason {
	case RecordDTMF, RecordTimeout, RecordHangup:
	case RecordWritefile:
		return rec, errors.Join(fmt.Errorf("record %s.%s: Asterisk cannot write the file", rec.Path, rec.Format), c.journalTake(rec))
	default:
		rec.Reason = RecordError
	}
	return rec, c.journalTake(rec)
}

// journalTake writes the journal step of one take.
func (c *call) journalTake(rec Recording) error {
	out := OutcomeValid
	switch {
	case rec.Reason == RecordHangup:
		out = OutcomeHangup
	case rec.Reason == RecordWritefile:
		out = OutcomeError
	case rec.EndPos == 0:
		out = OutcomeTimeout
	}
	st := c.step(StepRecord, "record", out)
	st.Digits = rec.Key
	st.Elapsed = rec.Duration
	return c.journalStep(st)
}

// saveTakeAndHangup keeps a take the caller hung up on, then reports the hangup.
func (c *call) saveTakeAndHangup(rec Recording) error {
	if rec.EndPos > 0 {
		if err := c.saveRecording(rec); err != nil {
			return err
		}
	}
	return agi.ErrHangup
}

// saveRecording stores a recording's metadata.
func (c *call) saveRecording(rec Recording) error {
	rec.CreatedAt, rec.CallStartedAt = c.app.now(), c.row.StartedAt
	return c.db("save recording", func(ctx context.Context) error {
		_, err := c.app.svc.Journal.SaveRecording(ctx, rec)
		return err
	})
}

// review lets the caller listen to the take, accept it or record again. No
// choice within the menu's attempts accepts the take, as voicemail does; a
// hangup during the review keeps the take.
func (c *call) review(rec Recording) (accept bool, err error) {
	cfg := c.app.cfg
	for attempt := 1; attempt <= maxTakes; {
		heard, in, err := c.getData(ask{prompt: sounds(cfg.Prompts.Review), keys: reviewAccept + reviewListen + reviewRerecord + "#", timeout: cfg.InputTimeout, maxDigits: 1})
		if err != nil {
			if c.isHangup(err) {
				return false, c.saveTakeAndHangup(rec)
			}
			return false, err
		}
		valid := in.Digits == reviewListen || in.Digits == reviewAccept || in.Digits == reviewRerecord
		if err := c.journalInput(heard, StepInput, "review", in, in.outcome(valid), false, nil); err != nil {
			return false, err
		}
		switch in.Digits {
		case reviewListen:
			if err := c.play(rec.Path); err != nil {
				if c.isHangup(err) {
					return false, c.saveTakeAndHangup(rec)
				}
				return false, err
			}
			continue
		case reviewAccept:
			return true, nil
		case reviewRerecord:
			return false, nil
		case "":
			c.say(cfg.Prompts.TryAgain)
		default:
			c.say(cfg.Prompts.Invalid)
		}
		attempt++
	}
	return true, nil
}
