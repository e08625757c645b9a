package main

import (
	"context"
	"errors"
)

func runRecordings(ctx context.Context, e *env, args []string) error {
	return errors.New("recordings: not built yet")
}
