package incus

// ManagedNetworks is the network collection of project ("" = default).
// OVN networks may live in a project with features.networks; the other
// types only in default.
func (c *Client) ManagedNetworks(project string) *ResourceAPI {
	return &ResourceAPI{c: c, base: "/networks", typeField: "type", project: project, Noun: "network"}
}
