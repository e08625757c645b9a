package main

import (
	"context"
	"errors"
)

func runCall(ctx context.Context, e *env, args []string) error {
	return errors.New("call: not built yet")
}
