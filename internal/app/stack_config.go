package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackConfigParams name a Compose project the way stack.present does.
type stackConfigParams = composeInput

// stackConfig loads a project exactly as stack.present does (interpolation,
// profiles, overrides, bundle) and returns the resolved model and each
// service's config hash: the part of the hash recorded on every instance
// (user.fleet.hash = HASH@IMAGE-FINGERPRINT) that change detection
// compares; a different hash replaces the slot (config_changed). It reads
// nothing from Incus.
func stackConfig(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackConfigParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	pp := stackPresentParams{composeInput: p}
	if err := pp.check(true); err != nil {
		return protocol.Response{}, err
	}
	stack, err := pp.loadStack(ctx, true)
	if err != nil {
		return protocol.Response{}, err
	}
	hashes := map[string]string{}
	names := make([]string, 0, len(stack.Services))
	for _, svc := range stack.Services {
		hashes[svc.Name] = svc.Hash
		names = append(names, svc.Name)
	}
	sort.Strings(names)
	resp := protocol.Response{Result: protocol.True(), Warnings: stack.Warnings,
		Comment: fmt.Sprintf("stack %s: %d services", stack.Name, len(names))}
	resp.Set("stack", stack.Name)
	resp.Set("hashes", hashes)
	resp.Set("model", stack) // secrets are never serialised (model.Service)
	return resp, nil
}
