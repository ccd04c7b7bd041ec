// Package model holds the plain domain types shared by the loader, the pure
// scheduler/planner and the Incus adapter. It imports nothing but the standard
// library so the pure packages stay testable offline.
package model

import "time"

// Stack is the desired state of one Compose project, already resolved
// (interpolated, profiles applied, defaults filled).
type Stack struct {
	Name     string
	Services []Service // sorted by Name
	// Networks are the Compose networks services join (networks.go),
	// sorted by Name; "default" when a service lists none.
	Networks []Network `json:",omitempty"`
	// Bundle is the sha256 of the bundle the stack was loaded from; empty
	// when it came from plain compose files (see file.go).
	Bundle string `json:",omitempty"`
	// Volumes are the top-level named volumes (volume.go), sorted by Name.
	Volumes []Volume `json:",omitempty"`
	// Warnings found while loading (ignored fields, seed quirks); reported once.
	Warnings []string
}

// Service is one Compose service reduced to what the fleet acts on.
type Service struct {
	Name        string
	Image       string // as written in compose (or x-incus.image)
	Command     []string
	Entrypoint  []string
	Environment map[string]string
	Labels      map[string]string
	Ports       []Port
	Healthcheck *Healthcheck
	Deploy      DeploySpec
	// Runtime holds the process and security settings (runtime.go).
	Runtime Runtime `json:",omitzero"`
	// DependsOn orders creation within one run; not part of Hash.
	DependsOn []Dependency `json:",omitempty"`
	// Files are support files (bind-mounted files, configs) pushed into
	// each instance before it starts; their digests are part of Hash.
	Files []File `json:",omitempty"`
	// Mounts are the named-volume and tmpfs mounts (volume.go).
	Mounts []Mount `json:",omitempty"`
	// Secrets are pushed to /run/secrets/<name> (mode 0444) like Files,
	// but never serialised: they stay out of the stack record, responses
	// and logs. Only their names and targets are part of Hash.
	Secrets []File `json:"-"`
	// Networks the service joins, sorted by network (network.go).
	Networks []ServiceNetwork `json:",omitempty"`
	// Hash is the config hash (Compose ServiceHash rules) of the service,
	// without the image fingerprint, which only the Incus side can resolve.
	Hash string
}

// Port is one published port. PublishedEnd > PublishedStart means a range:
// each replica (slot) gets its own host port, PublishedStart+slot-1.
type Port struct {
	HostIP         string // "" = the member's own address
	PublishedStart int    // 0 = not published
	PublishedEnd   int
	Target         int
	Protocol       string // tcp | udp
}

// IsRange reports whether the port gives each replica its own host port.
func (p Port) IsRange() bool { return p.PublishedEnd > p.PublishedStart }

// Healthcheck mirrors Compose's healthcheck. A service without one (nil)
// runs its OCI image's own HEALTHCHECK, as Docker does; so does one
// without Test, whose non-zero fields override the image's. Disabled
// (disable: true, test: NONE) runs no check at all.
type Healthcheck struct {
	Disabled    bool     `json:",omitempty"`
	Test        []string // ["CMD", ...] or ["CMD-SHELL", "..."]
	Interval    time.Duration
	Timeout     time.Duration
	Retries     int
	StartPeriod time.Duration
	// StartInterval is the probe interval during StartPeriod; 0 = Interval.
	StartInterval time.Duration `json:",omitempty"`
}

// Deploy modes.
const (
	ModeReplicated = "replicated"
	ModeGlobal     = "global"
)

// DeploySpec is the Compose deploy: section.
type DeploySpec struct {
	Mode           string // ModeReplicated | ModeGlobal
	Replicas       int    // replicated only
	Placement      Placement
	Resources      Resources
	RestartPolicy  RestartPolicy
	UpdateConfig   UpdateConfig
	RollbackConfig UpdateConfig
	// Labels are deploy.labels (service labels in Swarm), kept on each
	// instance as user.fleet.label.<k> when it is created. Not part of the
	// config hash (changing them replaces nothing); the stack record keeps
	// them and status shows the recorded ones.
	Labels map[string]string `json:",omitempty"`
}

// Placement is deploy.placement.
type Placement struct {
	Constraints        []string // raw "node.labels.storage == ssd"
	Spread             []string // preference keys, in order
	MaxReplicasPerNode int      // 0 = unlimited
}

// Resources is deploy.resources (limits and reservations).
type Resources struct {
	LimitCPUs          float64
	LimitMemoryBytes   int64
	LimitPids          int64
	ReserveCPUs        float64
	ReserveMemoryBytes int64
}

// RestartPolicy is deploy.restart_policy (or the service-level restart:).
type RestartPolicy struct {
	Condition   string // none | on-failure | any
	Delay       time.Duration
	MaxAttempts int
	Window      time.Duration
}

// Update orders and failure actions.
const (
	OrderStopFirst  = "stop-first"
	OrderStartFirst = "start-first"
)

// UpdateConfig is deploy.update_config / rollback_config with Swarm defaults.
type UpdateConfig struct {
	Parallelism     int // 0 = all at once
	Delay           time.Duration
	FailureAction   string // pause | continue | rollback
	Monitor         time.Duration
	MaxFailureRatio float64
	Order           string
}

// Service returns the named service, or nil.
func (s *Stack) Service(name string) *Service {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}
