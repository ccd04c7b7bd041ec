package model

// Network is one Compose network of a stack (the top-level `networks:`
// key), reduced to what the fleet acts on. How it maps onto Incus (an OVN
// network, a parent bridge, an existing network) is decided by the Incus
// side from cluster settings; the model only says what Compose asked for.
type Network struct {
	Name string // the Compose key ("default", "backend")
	// Existing names an Incus network that must already exist (Compose
	// `external: true`, or an explicit `name:`); empty = managed by the fleet.
	Existing string `json:",omitempty"`
	// Subnets are the ipam config subnets (CIDR), Gateway the first gateway.
	Subnets []string `json:",omitempty"`
	Gateway string   `json:",omitempty"`
	// Internal is Compose `internal: true` (no route out).
	Internal bool `json:",omitempty"`
	// Driver and DriverOpts are kept only to warn that Incus gives them no
	// meaning.
	Driver     string            `json:",omitempty"`
	DriverOpts map[string]string `json:",omitempty"`
}

// ServiceNetwork is one network a service joins, with its Compose aliases.
type ServiceNetwork struct {
	Network string   // Compose key of the stack network
	Aliases []string `json:",omitempty"`
}

// Network returns the stack network with the given Compose key, or nil.
func (s *Stack) Network(name string) *Network {
	for i := range s.Networks {
		if s.Networks[i].Name == name {
			return &s.Networks[i]
		}
	}
	return nil
}
