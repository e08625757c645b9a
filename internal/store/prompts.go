package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/prompts"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// TextPrompt is a stored prompt written as text: the sound name the versions
// that use it store, and what it says.
type TextPrompt struct {
	// Sound is the name Asterisk is given: the prompts directory and the
	// prompt's hash.
	Sound string
	// Voice is the command that speaks it.
	Voice string
	// Texts are its words, the default language first.
	Texts     []prompts.Text
	CreatedAt time.Time
}

// SaveTextPrompts stores ps; a prompt already stored under its sound is left
// as it is.
func (db *DB) SaveTextPrompts(ctx context.Context, ps []TextPrompt) error {
	if len(ps) == 0 {
		return nil
	}
	arg := sqlcdb.SaveTextPromptsParams{}
	for _, p := range ps {
		texts, err := json.Marshal(p.Texts)
		if err != nil {
			return err
		}
		arg.Sounds, arg.Voices, arg.Texts = append(arg.Sounds, p.Sound), append(arg.Voices, p.Voice), append(arg.Texts, texts)
	}
	if err := db.q.SaveTextPrompts(ctx, arg); err != nil {
		return fmt.Errorf("save text prompts: %w", err)
	}
	return nil
}

// TextPrompts returns every stored text prompt, by sound.
func (db *DB) TextPrompts(ctx context.Context) ([]TextPrompt, error) {
	rows, err := db.q.TextPrompts(ctx)
	if err != nil {
		return nil, fmt.Errorf("text prompts: %w", err)
	}
	out := make([]TextPrompt, len(rows))
	for i, r := range rows {
		out[i] = TextPrompt{Sound: r.Sound, Voice: r.Voice, CreatedAt: r.CreatedAt}
		if err := json.Unmarshal(r.Texts, &out[i].Texts); err != nil {
			return nil, fmt.Errorf("text prompt %s: %w", r.Sound, err)
		}
	}
	return out, nil
}

// PromptUse is a prompt value that a stored menu or survey version or a
// number names: one or more sound names joined with "&".
type PromptUse struct {
	Prompt string
	// Live is true when a live version (the newest published one of its
	// key) or a number names it, false when only drafts and replaced
	// versions do.
	Live bool
}

// PromptsInUse returns every prompt value the stored versions and numbers
// name, by value.
func (db *DB) PromptsInUse(ctx context.Context) ([]PromptUse, error) {
	rows, err := db.q.PromptsInUse(ctx)
	if err != nil {
		return nil, fmt.Errorf("prompts in use: %w", err)
	}
	out := make([]PromptUse, len(rows))
	for i, r := range rows {
		out[i] = PromptUse{Prompt: r.Sound, Live: r.Live}
	}
	return out, nil
}
