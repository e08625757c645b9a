package ivr

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// maxQuestionAttempts is how often a question is asked before it is skipped.
const maxQuestionAttempts = 3

// Valid reports whether answer is an allowed answer to q: one of AllowedDigits,
// or a whole number within Range. A question with neither accepts any digits.
func (q Question) Valid(answer string) bool {
	if answer == "" {
		return false
	}
	switch {
	case q.AllowedDigits != "":
		return len(answer) == 1 && strings.Contains(q.AllowedDigits, answer)
	case q.Range != nil:
		n, err := strconv.Atoi(answer)
		return err == nil && answer[0] != '+' && answer[0] != '-' && n >= q.Range.Min && n <= q.Range.Max
	}
	return strings.Trim(answer, "0123456789*") == ""
}

// maxDigits is how many keys an answer to q can have.
func (q Question) maxDigits() int {
	switch {
	case q.AllowedDigits != "":
		return 1
	case q.Range != nil:
		return max(len(strconv.Itoa(q.Range.Max)), len(strconv.Itoa(q.Range.Min)), 1)
	}
	return 16
}

// keys returns the keys an answer to q can start with, and '#', which ends
// input.
func (q Question) keys() string {
	switch {
	case q.AllowedDigits != "":
		return q.AllowedDigits + "#"
	case q.Range != nil:
		return digitKeys
	}
	return anyKeys
}

// runSurvey asks the published survey's questions in order. Each valid answer is
// saved with the survey version as soon as it is given; an invalid answer is
// refused and asked again; an optional question left unanswered is skipped, and
// a required one after its last attempt too (no answer is saved for it).
func (c *call) runSurvey(key string) error {
	cfg := c.app.cfg
	var sv Survey
	err := c.db("published survey", func(ctx context.Context) (err error) {
		sv, err = c.app.svc.Catalog.PublishedSurvey(ctx, key)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return &unknownMenuError{kind: "survey", key: key}
	}
	if err != nil {
		return err
	}
	if sv.IntroPrompt != "" {
		c.say(sv.IntroPrompt)
	}
	for _, q := range sv.Questions {
		stepKey := "survey:" + sv.Key + ":" + q.Key
		for attempt := 1; attempt <= maxQuestionAttempts; attempt++ {
			heard, in, err := c.getData(ask{prompt: sounds(q.Prompt), keys: q.keys(), timeout: cfg.InputTimeout, maxDigits: q.maxDigits()})
			if err != nil {
				return err
			}
			ok := q.Valid(in.Digits)
			var resp *Response
			if ok {
				resp = &Response{CallerID: c.callerID(), SurveyVersionID: sv.VersionID, QuestionKey: q.Key, Answer: in.Digits, At: c.app.now()}
			}
			if err := c.journalInput(heard, StepSurvey, stepKey, in, in.outcome(ok), false, resp); err != nil {
				return err
			}
			if ok || (in.empty() && !q.Required) {
				break
			}
			switch {
			case attempt == maxQuestionAttempts:
			case in.empty():
				c.say(cfg.Prompts.TryAgain)
			default:
				c.say(cfg.Prompts.Invalid)
			}
		}
	}
	if sv.ThankYouPrompt != "" {
		c.say(sv.ThankYouPrompt)
	}
	return nil
}
