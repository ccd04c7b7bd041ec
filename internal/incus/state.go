package incus

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// standaloneMember names the only member of a server that is not clustered.
const standaloneMember = "none"

// ReadState reads members, pools and all instances of all projects in a
// constant number of API calls, whatever the number of instances.
func (c *Client) ReadState(ctx context.Context) (*model.ClusterState, error) {
	return c.readState(ctx, "")
}

// ReadStackState is ReadState with RootPool read as the stack's project
// resolves the instance profile (its own profile when the project was made
// with features.profiles=true), in the same number of calls.
func (c *Client) ReadStackState(ctx context.Context, stack string) (*model.ClusterState, error) {
	return c.readState(ctx, stack)
}

func (c *Client) readState(ctx context.Context, project string) (*model.ClusterState, error) {
	// The instance list is the slow read (Incus asks every member for the
	// status of its instances: 70-110 ms for 30 on the test bed, more than
	// all the other reads together), so it runs alongside them.
	type listing struct {
		insts []Instance
		err   error
	}
	listed := make(chan listing, 1)
	go func() {
		insts, err := c.listInstances(ctx, "")
		listed <- listing{insts, err}
	}()
	st := &model.ClusterState{}
	members, err := c.members(ctx)
	if err != nil {
		return nil, err
	}
	st.Members = members
	var pools []struct {
		Name   string `json:"name"`
		Driver string `json:"driver"`
	}
	if _, err := c.call(ctx, http.MethodGet, "/storage-pools", Scope{Query: url.Values{"recursion": {"1"}}}, nil, &pools); err != nil {
		return nil, classify(err, "list storage pools")
	}
	poolNames := make([]string, 0, len(pools))
	for _, p := range pools {
		st.StoragePools = append(st.StoragePools, model.StoragePool{Name: p.Name, Driver: p.Driver})
		poolNames = append(poolNames, p.Name)
	}
	if st.Volumes, err = c.readVolumes(ctx, poolNames); err != nil { // volumes.go
		return nil, err
	}
	if st.RootPool, err = c.rootPool(ctx, project); err != nil { // rootpool.go
		return nil, err
	}
	l := <-listed
	if l.err != nil {
		return nil, l.err
	}
	for _, in := range l.insts {
		member := in.Location
		if !c.clustered || member == "" {
			member = c.memberName()
		}
		st.Instances = append(st.Instances, model.Instance{
			Name: in.Name, Project: in.Project, Member: member, Status: in.Status, Config: fleetKeys(in.Config),
		})
	}
	sort.Slice(st.Instances, func(i, j int) bool {
		a, b := st.Instances[i], st.Instances[j]
		if a.Project != b.Project {
			return a.Project < b.Project
		}
		return a.Name < b.Name
	})
	return st, nil
}

func (c *Client) memberName() string {
	if c.clustered {
		return c.server
	}
	return standaloneMember
}

// listInstances lists the instances of one project, or of all projects
// when project is "", in one call.
func (c *Client) listInstances(ctx context.Context, project string) ([]Instance, error) {
	q := url.Values{"recursion": {"1"}}
	s := Scope{Project: project, Query: q}
	if project == "" {
		q.Set("all-projects", "true")
	}
	var insts []Instance
	if _, err := c.call(ctx, http.MethodGet, "/instances", s, nil, &insts); err != nil {
		return nil, classify(err, "list instances")
	}
	return insts, nil
}

func (c *Client) members(ctx context.Context) ([]model.Member, error) {
	if !c.clustered {
		return []model.Member{{Name: standaloneMember, Status: model.StatusOnline, Architecture: c.arch,
			Labels: map[string]string{}, FailureDomain: "default"}}, nil
	}
	list, err := c.listMembers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Member, 0, len(list))
	for _, m := range list {
		out = append(out, memberFromAPI(m))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func memberFromAPI(m clusterMember) model.Member {
	labels := map[string]string{}
	for k, v := range m.Config {
		// user.fleet.* is incus-fleet's bookkeeping (which labels it
		// manages), not a label.
		if cluster.IsLabelKey(k) {
			labels[strings.TrimPrefix(k, cluster.LabelPrefix)] = v
		}
	}
	roles := append([]string{}, m.Roles...)
	groups := append([]string{}, m.Groups...)
	sort.Strings(roles)
	sort.Strings(groups)
	return model.Member{
		Name: m.ServerName, Status: m.Status, Architecture: m.Architecture,
		Roles: roles, Labels: labels, Groups: groups, FailureDomain: m.FailureDomain,
	}
}

// fleetKeys keeps only the user.fleet.* keys of an instance's config: all
// the planner reads, and the state (hence cluster.snapshot) must not carry
// environment.* values, which may hold application secrets.
func fleetKeys(cfg map[string]string) map[string]string {
	out := make(map[string]string, 4)
	for k, v := range cfg {
		if strings.HasPrefix(k, "user.fleet.") {
			out[k] = v
		}
	}
	return out
}
