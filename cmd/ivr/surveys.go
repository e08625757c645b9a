package main

import (
	"context"
	"errors"
)

func runSurveys(ctx context.Context, e *env, args []string) error {
	return errors.New("surveys: not built yet")
}
