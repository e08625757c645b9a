package main

import (
	"context"
	"errors"
)

func runVersion(ctx context.Context, e *env, args []string) error {
	return errors.New("version: not built yet")
}
