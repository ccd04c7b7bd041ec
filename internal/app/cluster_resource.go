package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/clusterres"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// Handlers of storage_pool.present/absent and network.present/absent; the
// work is in internal/clusterres.

type resourceParams struct {
	Name         string                       `json:"name"`
	Driver       string                       `json:"driver"`       // pools
	Type         string                       `json:"type"`         // networks
	NetworkType  string                       `json:"network_type"` // seed 001's spelling of type
	Config       map[string]string            `json:"config"`
	MemberConfig map[string]map[string]string `json:"member_config"`
	Description  *string                      `json:"description"`
	DefaultRoot  bool                         `json:"default_root"` // pools: the default profile's root disk
}

func storagePoolPresent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return resourcePresent(ctx, e, req, clusterres.Pool)
}

func storagePoolAbsent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return resourceAbsent(ctx, e, req, clusterres.Pool)
}

func networkPresent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return resourcePresent(ctx, e, req, clusterres.Network)
}

func networkAbsent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	return resourceAbsent(ctx, e, req, clusterres.Network)
}

// resourceRun connects and reads what every run needs: the collection and
// the cluster's members.
func resourceRun(ctx context.Context, e *env, req *protocol.Request, k clusterres.Kind, p *resourceParams) (*clusterres.Run, *incus.Client, error) {
	c, err := decodeAndConnect(ctx, req, p)
	if err != nil {
		return nil, nil, err
	}
	api := c.StoragePools()
	if k.Key == clusterres.Network.Key {
		project := ""
		if req.Connection != nil {
			project = req.Connection.Project
		}
		api = c.ManagedNetworks(project)
	}
	members, err := c.ClusterMembers(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(members))
	for _, m := range members {
		names = append(names, m.Name)
	}
	return &clusterres.Run{Kind: k, Test: req.Test,
		Server:   clusterres.Server{API: api, Clustered: c.Clustered(), Self: c.ServerName(), Members: names},
		Progress: func(format string, args ...any) { fmt.Fprintf(e.stderr, "incus-fleet: "+format+"\n", args...) },
	}, c, nil
}

func resourcePresent(ctx context.Context, e *env, req *protocol.Request, k clusterres.Kind) (protocol.Response, error) {
	var p resourceParams
	run, c, err := resourceRun(ctx, e, req, k, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	typ := p.Driver
	if k.Key == clusterres.Network.Key {
		if typ, err = p.networkType(); err != nil {
			return protocol.Response{}, err
		}
	}
	var root *defaultRoot
	if p.DefaultRoot {
		// Checked before the pool is touched: a profile that cannot take
		// the root disk leaves everything as it was.
		if root, err = checkDefaultRoot(ctx, c, p.Name); err != nil {
			return protocol.Response{}, err
		}
	}
	err = run.Present(ctx, clusterres.Spec{Name: p.Name, Type: typ, Config: p.Config, MemberConfig: p.MemberConfig, Description: p.Description})
	if err == nil && root != nil {
		err = root.apply(ctx, c, run)
	}
	return resourceResponse(run, p.Name, "present"), err
}

func resourceAbsent(ctx context.Context, e *env, req *protocol.Request, k clusterres.Kind) (protocol.Response, error) {
	var p resourceParams
	run, _, err := resourceRun(ctx, e, req, k, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	err = run.Absent(ctx, p.Name)
	return resourceResponse(run, p.Name, "absent"), err
}

func resourceResponse(run *clusterres.Run, name, want string) protocol.Response {
	resp := protocol.Response{Result: protocol.True(), Changes: map[string]protocol.Change{}, Warnings: run.Warnings}
	keys := make([]string, 0, len(run.Changes))
	for _, c := range run.Changes {
		resp.Changes[c.Key] = protocol.Change{Old: c.Old, New: c.New}
		keys = append(keys, c.Key)
	}
	resp.Set(run.Kind.Key, name)
	resp.Set("status", run.Status)
	switch {
	case len(keys) == 0 && want == "present":
		resp.Comment = fmt.Sprintf("%s %s is present and up to date", run.Kind.Noun, name)
	case len(keys) == 0:
		resp.Comment = fmt.Sprintf("%s %s is already absent", run.Kind.Noun, name)
	case run.Test:
		resp.Result = nil
		resp.Comment = fmt.Sprintf("%s %s: would change %s", run.Kind.Noun, name, strings.Join(keys, ", "))
	default:
		resp.Comment = fmt.Sprintf("%s %s: changed %s", run.Kind.Noun, name, strings.Join(keys, ", "))
	}
	return resp
}

// networkType is type, or network_type (seed 001's pillar spelling), so a
// pillar entry can be passed as it is.
func (p resourceParams) networkType() (string, error) {
	switch {
	case p.Type != "" && p.NetworkType != "" && p.Type != p.NetworkType:
		return "", protocol.Invalid("params.network_type", "type %q and network_type %q disagree: give one of them", p.Type, p.NetworkType)
	case p.Type == "" && p.NetworkType == "":
		return "", protocol.Invalid("params.type", "required: the network type (bridge, macvlan, physical, sriov, ovn, ...); network_type is accepted too")
	case p.Type != "":
		return p.Type, nil
	}
	return p.NetworkType, nil
}

var _ clusterres.API = (*incus.ResourceAPI)(nil)
