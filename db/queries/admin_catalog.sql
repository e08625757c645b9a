-- Queries of the operator commands on menus and surveys (ivr menus ...,
-- ivr surveys ...). New versions are written with the queries of menus.sql and
-- surveys.sql; the live version of a key is its newest published one.

-- name: AdminPublishedMenuKeys :many
SELECT m.key FROM menus m
WHERE EXISTS (SELECT 1 FROM menu_versions v WHERE v.menu_id = m.id AND v.published_at IS NOT NULL)
ORDER BY m.key;

-- name: AdminMenuSummaries :many
SELECT m.key,
       max(v.version)::integer AS latest,
       coalesce(max(v.version) FILTER (WHERE v.published_at IS NOT NULL), 0)::integer AS live,
       count(v.id) AS versions,
       max(v.created_at)::timestamptz AS changed_at
FROM menus m JOIN menu_versions v ON v.menu_id = m.id
GROUP BY m.key
ORDER BY m.key;

-- name: AdminMenuVersions :many
SELECT v.id, v.version, v.published_at, v.created_at
FROM menu_versions v JOIN menus m ON m.id = v.menu_id
WHERE m.key = @key
ORDER BY v.version;

-- name: AdminLatestMenuVersion :one
SELECT max(v.version)::integer
FROM menu_versions v JOIN menus m ON m.id = v.menu_id
WHERE m.key = @key
HAVING count(*) > 0;

-- name: AdminPublishedSurveyKeys :many
SELECT s.key FROM surveys s
WHERE EXISTS (SELECT 1 FROM survey_versions v WHERE v.survey_id = s.id AND v.published_at IS NOT NULL)
ORDER BY s.key;

-- name: AdminSurveySummaries :many
SELECT s.key,
       max(v.version)::integer AS latest,
       coalesce(max(v.version) FILTER (WHERE v.published_at IS NOT NULL), 0)::integer AS live,
       count(v.id) AS versions,
       max(v.created_at)::timestamptz AS changed_at
FROM surveys s JOIN survey_versions v ON v.survey_id = s.id
GROUP BY s.key
ORDER BY s.key;

-- name: AdminSurveyVersions :many
SELECT v.id, v.version, v.published_at, v.created_at
FROM survey_versions v JOIN surveys s ON s.id = v.survey_id
WHERE s.key = @key
ORDER BY v.version;

-- name: AdminLatestSurveyVersion :one
SELECT max(v.version)::integer
FROM survey_versions v JOIN surveys s ON s.id = v.survey_id
WHERE s.key = @key
HAVING count(*) > 0;

