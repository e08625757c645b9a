package ivr

import (
	"context"
	"strconv"
)

// Choices while a message plays or after it.
const (
	msgReplay = "1"
	msgNext   = "2"
	msgDelete = "3"
	msgBack   = "#"

	messageKeys = msgReplay + msgNext + msgDelete + msgBack
)

// playMessages plays the caller's messages, newest first. During or after each
// message: 1 replays it, 2 goes to the next, 3 deletes it and goes to the next,
// # goes back to the menu.
func (c *call) playMessages() error {
	cfg := c.app.cfg
	var msgs []Recording
	err := c.db("caller messages", func(ctx context.Context) (err error) {
		msgs, err = c.app.svc.Messages.CallerMessages(ctx, c.callerID())
		return err
	})
	if err != nil {
		return err
	}
	if err := c.play(cfg.Prompts.YouHave); err != nil {
		return err
	}
	if _, err := c.s.SayNumber(c.ctx, len(msgs), ""); err != nil {
		return c.commandFailed("number:"+strconv.Itoa(len(msgs)), err)
	}
	c.say(cfg.Prompts.Messages)
	if len(msgs) == 0 {
		return nil
	}
	i, tries := 0, 0
	for i < len(msgs) && tries < maxQuestionAttempts {
		m := msgs[i]
		key, err := c.playMessage(m)
		if err != nil {
			return err
		}
		if key == "" {
			heard, in, err := c.getData(ask{prompt: cfg.Prompts.MessageMenu, keys: messageKeys, timeout: cfg.InputTimeout, maxDigits: 1})
			if err != nil {
				return err
			}
			key = in.keys()
			valid := key == msgReplay || key == msgNext || key == msgDelete || key == msgBack
			if err := c.journalInput(heard, StepInput, "messages", in, in.outcome(valid), false, nil); err != nil {
				return err
			}
		}
		switch key {
		case msgReplay:
			tries = 0
		case msgNext:
			i, tries = i+1, 0
		case msgDelete:
			if err := c.db("delete recording", func(ctx context.Context) error {
				return c.app.svc.Messages.DeleteRecording(ctx, m.ID, c.app.now())
			}); err != nil {
				return err
			}
			c.say(cfg.Prompts.Deleted)
			i, tries = i+1, 0
		case msgBack:
			return nil
		case "":
			tries++
			c.say(cfg.Prompts.TryAgain)
		default:
			tries++
			c.say(cfg.Prompts.Invalid)
		}
	}
	if i == len(msgs) {
		c.say(cfg.Prompts.NoMore)
	}
	return nil
}

// playMessage plays one message (queued prompts first) with the choice keys as
// escape digits and journals it; key is the choice pressed during playback.
func (c *call) playMessage(m Recording) (key string, err error) {
	if err := c.flush(); err != nil {
		return "", err
	}
	pb, err := c.s.StreamFile(c.ctx, m.Path, messageKeys)
	if err != nil {
		return "", c.commandFailed(m.Path, err)
	}
	st := c.step(StepPlayback, "message:"+strconv.FormatInt(m.ID, 10), OutcomeValid)
	if pb.Key != 0 {
		key = string(pb.Key)
		st.Digits = key
	}
	return key, c.journalStep(st)
}
