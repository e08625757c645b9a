package main

import (
	"context"
	"errors"
)

func runCallers(ctx context.Context, e *env, args []string) error {
	return errors.New("callers: not built yet")
}
