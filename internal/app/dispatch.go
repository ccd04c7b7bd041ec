package app

import (
	"context"
	"io"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// env is what a handler may use: all I/O is injected so tests and the CLI
// share one code path.
type env struct {
	stderr io.Writer // progress and warnings; never the response
}

type handler func(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error)

// handlers maps every protocol action to its implementation. Each action
// must also have a schema in schemas/ (a test checks both ways).
var handlers = map[string]handler{
	"cluster.status":   clusterStatus,
	"cluster.snapshot": clusterSnapshot,
	"stack.present":    stackPresent,
	"stack.absent":     stackAbsent,
	"stack.status":     stackStatus,
	"stack.rollback":   stackRollback,

	// Day-2 operations (stack_list.go, stack_exec.go, stack_logs.go, stack_config.go).
	"stack.list":   stackList,
	"stack.exec":   stackExec,
	"stack.logs":   stackLogs,
	"stack.config": stackConfig,
	"stack.scale":  stackScale,

	// Cluster membership (cluster_member_*.go).
	"cluster.member.present":  clusterMemberPresent,
	"cluster.member.absent":   clusterMemberAbsent,
	"cluster.member.evacuate": clusterMemberEvacuate,
	"cluster.member.restore":  clusterMemberRestore,
	// Rolling maintenance: may this member be evacuated now?
	"cluster.member.maintenance_check": clusterMemberMaintenanceCheck,

	// Storage pools and networks shared by the members (cluster_resource.go).
	"storage_pool.present": storagePoolPresent,
	"storage_pool.absent":  storagePoolAbsent,
	"network.present":      networkPresent,
	"network.absent":       networkAbsent,

	// Compose bundles (bundle_*.go).
	"bundle.create": bundleCreate,
	"bundle.verify": bundleVerify,
}

// serve runs one decoded request and always returns a complete response.
func serve(ctx context.Context, e *env, req *protocol.Request) protocol.Response {
	h, ok := handlers[req.Action]
	if !ok {
		return failure(req.Action, protocol.Invalid("action", "action %q has a schema but no implementation in this binary", req.Action))
	}
	resp, err := h(ctx, e, req)
	resp.Action = req.Action
	if err != nil {
		perr := toProtocolError(err)
		resp.Error = perr
		resp.Result = protocol.False()
		if resp.Comment == "" {
			resp.Comment = perr.Message
		}
	}
	return resp
}

func failure(action string, err *protocol.Error) protocol.Response {
	return protocol.Response{Action: action, Result: protocol.False(), Comment: err.Message, Error: err}
}
