package main

import (
	"context"
	"errors"
)

func runDev(ctx context.Context, e *env, args []string) error {
	return errors.New("dev: not built yet")
}
