package model

import "time"

// Runtime is how a service's processes run inside each instance: the
// Compose keys that shape the container rather than its placement. Every
// field has an Incus equivalent (internal/incus/spec_*.go); keys without
// one are reported by the loader and never reach the model.
type Runtime struct {
	// UID/GID of the first process; nil = the image's default (root).
	UID        *int64 `json:",omitempty"`
	GID        *int64 `json:",omitempty"`
	WorkingDir string `json:",omitempty"` // "" = the image's default
	// StopGracePeriod is how long a stop waits for the first process to
	// exit before killing it; 0 = stop at once (the fleet's default).
	StopGracePeriod time.Duration     `json:",omitempty"`
	StopSignal      string            `json:",omitempty"` // "" = Incus's default (SIGPWR to init)
	Sysctls         map[string]string `json:",omitempty"`
	Ulimits         map[string]Ulimit `json:",omitempty"` // by name: nofile, nproc, ...
	Privileged      bool              `json:",omitempty"`
	// CapDrop lists capabilities to drop (lower case, no CAP_ prefix);
	// CapKeep, when set, is the complete set to keep (cap_drop: [ALL]).
	CapDrop []string `json:",omitempty"`
	CapKeep []string `json:",omitempty"`
	// NoNewPrivileges is security_opt no-new-privileges.
	NoNewPrivileges bool        `json:",omitempty"`
	Devices         []Device    `json:",omitempty"`
	Hostname        string      `json:",omitempty"`
	ExtraHosts      []HostEntry `json:",omitempty"`
	Tmpfs           []Tmpfs     `json:",omitempty"`
	ShmSizeBytes    int64       `json:",omitempty"`
	// CPUSet pins the instance to CPUs ("0-3", "1,3"), cpuset:.
	CPUSet string `json:",omitempty"`
	// HostBinds are bind mounts of absolute host paths: they mount the
	// path of whichever member runs the instance.
	HostBinds []HostBind `json:",omitempty"`
}

// Ulimit is one resource limit; Soft == Hard when Compose gave one number.
type Ulimit struct{ Soft, Hard int64 }

// Device is one host device passed into the container.
type Device struct {
	Source string // host path, e.g. /dev/fuse
	Target string // path inside the container
	Block  bool   // a block device (else character)
}

// HostEntry is one extra_hosts line.
type HostEntry struct{ Name, Address string }

// Tmpfs is one tmpfs mount.
type Tmpfs struct {
	Target    string
	SizeBytes int64  `json:",omitempty"` // 0 = the kernel's default
	Mode      uint32 `json:",omitempty"` // 0 = the kernel's default (1777)
	// Options are further mount flags (ro, noexec, nosuid, nodev, ...).
	Options []string `json:",omitempty"`
}

// HostBind is a bind mount of a path on the member.
type HostBind struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Dependency conditions (depends_on long form).
const (
	DependsStarted   = "service_started"
	DependsHealthy   = "service_healthy"
	DependsCompleted = "service_completed_successfully"
)

// Dependency is one depends_on entry: the service waits for Service to
// reach Condition before its instances are created in a run.
type Dependency struct {
	Service   string
	Condition string
	Required  bool
}

// KeyDeployLabelPrefix prefixes deploy.labels (Swarm's service labels) on
// every instance of the service; stack status shows them.
const KeyDeployLabelPrefix = "user.fleet.label."
