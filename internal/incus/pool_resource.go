package incus

// StoragePools is the storage pool collection (pools are not per project).
func (c *Client) StoragePools() *ResourceAPI {
	return &ResourceAPI{c: c, base: "/storage-pools", typeField: "driver", Noun: "storage pool"}
}
