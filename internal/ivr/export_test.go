package ivr

import "context"

// WaitWrites waits until no write of an ended call runs in the background
// (the lookup's call row, the writes kept for retry) or ctx ends, and reports
// whether none is left. Tests read a call's rows after it.
func (a *App) WaitWrites(ctx context.Context) bool { return a.pending.wait(ctx) }
