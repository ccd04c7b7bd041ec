package incus

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// A move of a volume on a local pool must never cost the source. The copy
// is made under a temporary name that no slot uses (moveTempSuffix) and
// without ownership keys, so an interrupted copy is recognisably ours and
// never taken for data. Only once its operation has succeeded does it get
// the source's config plus model.KeyMovedFrom, and the volume's own name;
// only then is the source deleted. A same-named volume on the destination
// without that mark is not the moved data (an interrupted copy of an older
// version, or one made by hand): the move is refused and the source stays.

// moveTempSuffix names the copy while it is being made.
const moveTempSuffix = ".fleet-move"

// volumeEntryOf reads one custom volume; ok is false when it is missing.
func (c *Client) volumeEntryOf(ctx context.Context, stack, pool, member, name string) (v volumeEntry, ok bool, err error) {
	_, err = c.call(ctx, "GET", customVolumePath(pool)+"/"+url.PathEscape(name), Scope{Project: stack, Target: c.target(member)}, nil, &v)
	switch {
	case err == nil:
		return v, true, nil
	case isNotFound(err):
		return v, false, nil
	}
	return v, false, classify(err, "read volume %s%s", name, onMember(member))
}

// MoveVolume moves a custom volume on a local pool from one member to
// another: a copy pulled by the destination member (volume_migrate.go)
// under a temporary name, marked and renamed once complete, then the
// source is deleted. A run killed in between is finished by the next one:
// a marked copy is complete (only the source's deletion remains), an
// unmarked temporary copy is discarded and made again.
func (c *Client) MoveVolume(ctx context.Context, stack, pool, name, from, to string) error {
	dst, there, err := c.volumeEntryOf(ctx, stack, pool, to, name)
	if err != nil {
		return err
	}
	src, srcThere, err := c.volumeEntryOf(ctx, stack, pool, from, name)
	if err != nil {
		return err
	}
	switch {
	case there && dst.Config[model.KeyMovedFrom] == from:
		// The copy finished before a run was cut short: only the source's
		// deletion remains.
	case there:
		return fmt.Errorf("volume %s cannot be moved from %s to %s: %s already holds a volume %s that is not a finished copy of it "+
			"(left by an interrupted copy, or made by hand); the data stays on %s. Look at it and delete it "+
			"(incus storage volume delete %s %s --target %s --project %s), then apply again: %w",
			name, from, to, to, name, from, pool, name, to, stack, ErrConflict)
	case !srcThere:
		return fmt.Errorf("volume %s cannot be moved from %s to %s: it is on neither member: %w", name, from, to, ErrNotFound)
	default:
		if err := c.copyComplete(ctx, stack, pool, name, from, to, src); err != nil {
			return err
		}
	}
	crashpoint.Hit("volume-copied")
	if !srcThere {
		return nil
	}
	return c.DeleteVolume(ctx, stack, pool, from, name)
}

// copyComplete makes the marked copy of src on member to.
func (c *Client) copyComplete(ctx context.Context, stack, pool, name, from, to string, src volumeEntry) error {
	tmp := name + moveTempSuffix
	// A temporary copy left by an earlier run may be partial: start over.
	if err := c.DeleteVolume(ctx, stack, pool, to, tmp); err != nil {
		return err
	}
	// Size and labels come with the copy; ownership keys only with the mark.
	config := map[string]string{}
	for k, v := range src.Config {
		if !strings.HasPrefix(k, "volatile.") && !strings.HasPrefix(k, "user.fleet.") {
			config[k] = v
		}
	}
	if err := c.copyVolumeTo(ctx, stack, pool, name, tmp, from, to, config); err != nil {
		return err
	}
	crashpoint.Hit("volume-copy-made")
	// PATCH merges: the copy's own volatile keys stay as Incus made them.
	marked := map[string]string{}
	for k, v := range src.Config {
		if strings.HasPrefix(k, "user.fleet.") {
			marked[k] = v
		}
	}
	marked[model.KeyMovedFrom] = from
	scope := Scope{Project: stack, Target: c.target(to)}
	patch := map[string]any{"config": marked}
	if _, err := c.call(ctx, "PATCH", customVolumePath(pool)+"/"+url.PathEscape(tmp), scope, patch, nil); err != nil {
		return classify(err, "mark the copy of volume %s on %s as complete", name, to)
	}
	if _, err := c.call(ctx, "POST", customVolumePath(pool)+"/"+url.PathEscape(tmp), scope, map[string]string{"name": name}, nil); err != nil {
		return classify(err, "rename the copy of volume %s on %s to %s", name, to, name)
	}
	return nil
}
