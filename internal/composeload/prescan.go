package composeload

import (
	"bytes"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// prescan looks at the raw YAML before compose-go does, for the few
// problems compose-go hides or handles badly. Syntax errors are left for
// the loader to report in its own words; only the given files are scanned
// (not those pulled in by include: or extends.file).
func prescan(files []types.ConfigFile, env *environment) error {
	for _, f := range files {
		dec := yaml.NewDecoder(bytes.NewReader(f.Content))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				break // io.EOF, or a syntax error the loader reports
			}
			if err := checkAliasCycles(&doc, map[*yaml.Node]bool{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAliasCycles rejects an alias that points at one of its own
// ancestors ("a: &a {<<: *a}"). compose-go rejects these too, but only
// after a search that takes tens of seconds, so they are caught here.
func checkAliasCycles(n *yaml.Node, ancestors map[*yaml.Node]bool) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		if ancestors[n.Alias] {
			return errorf("compose", "YAML alias *%s refers to the node that contains it (anchor &%s), which never ends; point it at another anchor", n.Value, n.Value)
		}
		return nil
	}
	ancestors[n] = true
	defer delete(ancestors, n)
	for _, c := range n.Content {
		if err := checkAliasCycles(c, ancestors); err != nil {
			return err
		}
	}
	return nil
}

// mapGet finds key in a mapping node, following aliases and "<<" merge keys
// the way YAML decoding does (explicit keys win over merged ones). Each
// mapping is visited once, so self-referencing anchors cannot loop us.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	return mapGetSeen(n, key, map[*yaml.Node]bool{})
}

func mapGetSeen(n *yaml.Node, key string, seen map[*yaml.Node]bool) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || seen[n] {
		return nil
	}
	seen[n] = true
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		switch {
		case k.Value == key:
			return v
		case k.Value == "<<" && v != nil && v.Kind == yaml.SequenceNode:
			merges = append(merges, v.Content...)
		case k.Value == "<<":
			merges = append(merges, v)
		}
	}
	for _, m := range merges {
		if v := mapGetSeen(m, key, seen); v != nil {
			return v
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}
