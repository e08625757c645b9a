package main

import (
	"context"
	"errors"
)

func runMenus(ctx context.Context, e *env, args []string) error {
	return errors.New("menus: not built yet")
}
