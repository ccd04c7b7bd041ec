package model

// Member status values, as Incus reports them.
const (
	StatusOnline    = "Online"
	StatusOffline   = "Offline"
	StatusEvacuated = "Evacuated"
	StatusBlocked   = "Blocked"
)

// ClusterState is what the planner needs to know about a cluster. Its JSON
// form is the cluster snapshot of PROTOCOL.md (cluster.snapshot output,
// stack.present params.cluster input).
type ClusterState struct {
	Members      []Member      `json:"members"`
	StoragePools []StoragePool `json:"storage_pools"`
	Instances    []Instance    `json:"instances"`
	// Volumes are the custom storage volumes of all projects (volume.go).
	Volumes []VolumeState `json:"volumes,omitempty"`
	// RootPool is the storage pool of the root disk that stack instances
	// get (from the profile they are created with); "" = unknown. It lets
	// the pure planner tell, even offline, whether replicas could fail
	// over with their data.
	RootPool string `json:"root_pool,omitempty"`
	// Networks are the Incus networks of the default project, so an
	// offline plan can check a stack's external networks. Only
	// cluster.snapshot fills them (a deploy asks Incus directly).
	Networks []NetworkState `json:"networks,omitempty"`
}

// NetworkState is one Incus network as a snapshot records it.
type NetworkState struct {
	Name    string `json:"name"`
	Type    string `json:"type,omitempty"`
	Managed bool   `json:"managed,omitempty"`
}

// Member is one cluster member. Labels are its user.<k> config entries
// without the prefix.
type Member struct {
	Name          string            `json:"name"`
	Status        string            `json:"status"`
	Architecture  string            `json:"architecture"`
	Roles         []string          `json:"roles"`
	Labels        map[string]string `json:"labels"`
	Groups        []string          `json:"groups"`
	FailureDomain string            `json:"failure_domain"`
	// Free capacity for reservations; 0 = unknown (no reservation check).
	CPUs        int   `json:"cpus,omitempty"`
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
}

// StoragePool is a storage pool and its driver.
type StoragePool struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
}

// Instance is one Incus instance as seen by the planner.
type Instance struct {
	Name    string            `json:"name"`
	Project string            `json:"project"`
	Member  string            `json:"member"`
	Status  string            `json:"status"`
	Config  map[string]string `json:"config"`
}

// Online reports whether the member can take instances.
func (m Member) Online() bool { return m.Status == StatusOnline }
