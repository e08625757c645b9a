package main

import (
	"context"

	"github.com/ivrhq/ivr/internal/catalog"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// surveyKind is the surveys command's view of ivr.Survey.
func surveyKind() *catalogKind[ivr.Survey] {
	return &catalogKind[ivr.Survey]{
		noun:   "survey",
		plural: "surveys",
		info: func(s ivr.Survey) version {
			return version{id: s.VersionID, key: s.Key, number: s.Version, published: s.Published, created: s.CreatedAt}
		},
		parse:       catalog.ParseSurveys,
		marshal:     catalog.MarshalSurveys,
		diff:        catalog.DiffSurveys,
		fields:      catalog.SurveyFields,
		unpublished: func(ivr.Survey, map[string]bool, map[string]bool) []string { return nil },
		entries:     (*store.DB).SurveyEntries,
		get:         (*store.DB).SurveyVersion,
		latest:      (*store.DB).LatestSurveyVersion,
		versions:    (*store.DB).SurveyVersions,
		save:        (*store.DB).SaveSurveys,
	}
}

func runSurveys(ctx context.Context, e *env, args []string) error {
	return surveyKind().run(ctx, e, args)
}
