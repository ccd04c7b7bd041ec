package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/clusterres"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// storage_pool.present with default_root: true makes the pool the one
// stack instances take their root disk from (the default profile's root
// disk). A fresh Incus has a default profile without a root disk, and no
// instance can be created until something adds one; with this, a pillar
// alone takes three empty machines to running stacks.

// defaultRootChange is the change key of the profile's root disk.
const defaultRootChange = "default_profile.root_pool"

type defaultRoot struct {
	pool string
	disk incus.RootDisk
}

// checkDefaultRoot reads the profile and refuses, before anything changes,
// a root disk already on another pool.
func checkDefaultRoot(ctx context.Context, c *incus.Client, pool string) (*defaultRoot, error) {
	disk, err := c.DefaultProfileRoot(ctx)
	if err != nil {
		return nil, err
	}
	if disk.Pool != "" && disk.Pool != pool {
		return nil, protocol.Errorf(protocol.CodeConflict,
			"default_root: the default profile's root disk %q is on storage pool %s, not %s; Incus cannot move the instances that use it "+
				"by a profile edit: drop default_root from this pool, or change the profile yourself once no instance uses it "+
				"(incus profile device set default %s pool=%s)", disk.Device, disk.Pool, pool, disk.Device, pool)
	}
	if err := disk.Addable(pool); err != nil {
		return nil, protocol.Errorf(protocol.CodeConflict, "default_root: %v", err)
	}
	return &defaultRoot{pool: pool, disk: disk}, nil
}

// apply adds the root disk when the profile has none (a change, also in
// test mode); a root disk already on the pool is no change.
func (d *defaultRoot) apply(ctx context.Context, c *incus.Client, run *clusterres.Run) error {
	if d.disk.Pool == d.pool {
		return nil
	}
	err := run.Step(clusterres.Change{Key: defaultRootChange, Old: "", New: d.pool}, func() error {
		return c.SetDefaultProfileRoot(ctx, d.disk, d.pool)
	})
	if errors.Is(err, incus.ErrConflict) {
		return protocol.Errorf(protocol.CodeConflict, "%v: the default profile changed while this run read it; run it again", err)
	}
	if err != nil {
		return fmt.Errorf("default_root: %w", err)
	}
	return nil
}
