-- +goose Up
-- text_prompts are the prompts written as text in menus, surveys and numbers
-- (see internal/prompts): sound is the name the versions store for it, the
-- prompts directory and the hash of words, languages and voice; voice is the
-- command that speaks it; texts its words, [{"language": "en", "words":
-- "..."}, ...], the default language first. apply stores a row before the
-- versions that name its sound, so ivr prompts render can make the files again
-- on another Asterisk, and ivr prompts verify can tell which are in use.
CREATE TABLE text_prompts (
    sound      text        NOT NULL,
    voice      text        NOT NULL,
    texts      jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT text_prompts_pkey PRIMARY KEY (sound),
    CONSTRAINT text_prompts_texts_check CHECK (jsonb_typeof(texts) = 'array' AND jsonb_array_length(texts) > 0)
);

-- +goose Down
DROP TABLE text_prompts;
