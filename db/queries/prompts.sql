-- SaveTextPrompts stores text prompts, one per element of the arrays; a
-- prompt already stored (the same sound: the same words, languages and voice)
-- is left as it is.
-- name: SaveTextPrompts :exec
INSERT INTO text_prompts (sound, voice, texts)
SELECT unnest(@sounds::text[]), unnest(@voices::text[]), unnest(@texts::jsonb[])
ON CONFLICT (sound) DO NOTHING;

-- TextPrompts lists the stored text prompts by sound.
-- name: TextPrompts :many
SELECT sound, voice, texts, created_at FROM text_prompts ORDER BY sound;

-- PromptsInUse lists every prompt value that a menu or survey version or a
-- number names (several sounds joined with & stay one value), and whether a
-- live version (the newest published one of its key) or a number names it.
-- name: PromptsInUse :many
WITH live_menus AS (
    SELECT DISTINCT ON (menu_id) id FROM menu_versions
    WHERE published_at IS NOT NULL ORDER BY menu_id, version DESC
), live_surveys AS (
    SELECT DISTINCT ON (survey_id) id FROM survey_versions
    WHERE published_at IS NOT NULL ORDER BY survey_id, version DESC
)
SELECT p.sound::text AS sound, bool_or(p.live)::boolean AS live
FROM (
    SELECT unnest(ARRAY[v.prompt, v.invalid_prompt, v.timeout_prompt]) AS sound,
           v.id IN (SELECT id FROM live_menus) AS live
    FROM menu_versions v
    UNION ALL
    SELECT unnest(ARRAY[o.closed ->> 'prompt', o.holiday ->> 'prompt']), o.menu_version_id IN (SELECT id FROM live_menus)
    FROM menu_options o
    UNION ALL
    SELECT unnest(ARRAY[v.intro_prompt, v.thank_you_prompt]), v.id IN (SELECT id FROM live_surveys)
    FROM survey_versions v
    UNION ALL
    SELECT q.prompt, q.survey_version_id IN (SELECT id FROM live_surveys)
    FROM survey_questions q
    UNION ALL
    SELECT unnest(ARRAY[n.closed ->> 'prompt', n.holiday ->> 'prompt']), true
    FROM numbers n
) p
WHERE p.sound IS NOT NULL AND p.sound <> ''
GROUP BY p.sound
ORDER BY p.sound;
