package app

import (
	"encoding/json"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// deployedSpec is what a stack record keeps of a deployment: the resolved
// services and the image fingerprint each ran, so the exact same instances
// (same hashes) can be created again by a rollback.
type deployedSpec struct {
	Version  int               `json:"version"`
	Services []model.Service   `json:"services"`
	Images   map[string]string `json:"images"` // service → fingerprint
	// Bundle is the sha256 of the bundle deployed ("" for compose input),
	// so status shows it and a rollback returns to the previous one.
	Bundle string `json:"bundle,omitempty"`
	// Volumes are the stack's named volumes (secrets are never recorded).
	Volumes []model.Volume `json:"volumes,omitempty"`
	// Networks are the stack's Compose networks, so a rollback attaches
	// and names its instances as they were.
	Networks []model.Network `json:"networks,omitempty"`
	// Secrets says where each service's secrets go, by service, never
	// what they hold (stack_secrets.go): a rollback finds their content
	// in the instances it replaces.
	Secrets map[string][]secretRef `json:"secrets,omitempty"`
}

const specVersion = 1

func encodeSpec(stack *model.Stack, images map[string]incus.Image) (string, error) {
	spec := deployedSpec{Version: specVersion, Services: stack.Services, Images: map[string]string{}, Bundle: stack.Bundle, Volumes: stack.Volumes,
		Networks: stack.Networks, Secrets: secretRefsOf(stack)}
	for name, img := range images {
		spec.Images[name] = img.Fingerprint
	}
	data, err := json.Marshal(spec)
	return string(data), err
}

// decodeSecretRefs reads where a recorded spec's secrets go; nil for a
// spec recorded before secrets were (or without any).
func decodeSecretRefs(raw string) map[string][]secretRef {
	var spec deployedSpec
	if json.Unmarshal([]byte(raw), &spec) != nil {
		return nil
	}
	return spec.Secrets
}

// decodeSpec rebuilds a stack and its pinned images from a record.
func decodeSpec(name, raw string) (*model.Stack, map[string]incus.Image, error) {
	var spec deployedSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil || spec.Version != specVersion {
		return nil, nil, fmt.Errorf("the deployed spec recorded for stack %s is unreadable (version %d, %v); deploy it again with stack.present", name, spec.Version, err)
	}
	images := map[string]incus.Image{}
	for svc, fp := range spec.Images {
		images[svc] = incus.PinnedImage(fp)
	}
	return &model.Stack{Name: name, Services: spec.Services, Bundle: spec.Bundle, Volumes: spec.Volumes, Networks: spec.Networks}, images, nil
}

// withRollbackConfig returns a copy of the stack that rolls with each
// service's rollback_config instead of its update_config.
func withRollbackConfig(stack *model.Stack) *model.Stack {
	out := &model.Stack{Name: stack.Name, Bundle: stack.Bundle, Volumes: stack.Volumes, Services: append([]model.Service{}, stack.Services...),
		Networks: stack.Networks}
	for i := range out.Services {
		out.Services[i].Deploy.UpdateConfig = out.Services[i].Deploy.RollbackConfig
	}
	return out
}
