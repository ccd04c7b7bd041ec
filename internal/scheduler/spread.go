package scheduler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/constraint"
)

// spreadKeys parses spread preferences with the constraint key names.
// Spreading over members themselves (node.id, node.hostname, instanceId) is
// what the leaf level always does, so those keys add no level.
func spreadKeys(prefs []string) ([]constraint.Key, error) {
	var keys []constraint.Key
	for _, p := range prefs {
		p = strings.TrimSpace(p)
		if strings.EqualFold(p, "instanceId") {
			continue
		}
		k, err := constraint.ParseKey(p)
		if err != nil {
			return nil, fmt.Errorf("invalid spread preference %q: %v", p, err)
		}
		if !k.IsMember() {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// branch is a node of the spread tree: one value of one spread key, or, at
// the bottom, a leaf holding members. Aggregates let each level choose a
// child in O(log fan-out).
type branch struct {
	ord      int // position among siblings: the final tie-break (value order)
	count    int // replicas of the service in the subtree
	load     int // instances of any stack in the subtree
	room     int // replicas the subtree can still take
	leaf     bool
	children minHeap[*branch] // inner: children with room, fewest replicas first
	members  minHeap[int]     // leaf: members with room, best first
}

// lessBranch orders siblings: fewest replicas of the service, then fewest
// instances overall, then value order.
func lessBranch(a, b *branch) bool {
	if a.count != b.count {
		return a.count < b.count
	}
	if a.load != b.load {
		return a.load < b.load
	}
	return a.ord < b.ord
}

// lessMember orders a leaf's members: fewest replicas of the service, then
// fewest instances overall, then name (index order is name order).
func (s *Service) lessMember(a, b int) bool {
	if s.count[a] != s.count[b] {
		return s.count[a] < s.count[b]
	}
	if s.c.instances[a] != s.c.instances[b] {
		return s.c.instances[a] < s.c.instances[b]
	}
	return a < b
}

// buildTree groups the eligible members by spread key, level by level.
func (s *Service) buildTree() *branch {
	elig := make([]int, 0, len(s.c.members))
	for i, r := range s.reject {
		if r < 0 {
			elig = append(elig, i)
		}
	}
	return s.build(elig, 0)
}

func (s *Service) build(idx []int, level int) *branch {
	b := &branch{}
	if level == len(s.spread) {
		b.leaf = true
		b.members.less = s.lessMember
		for _, i := range idx {
			b.count += s.count[i]
			b.load += s.c.instances[i]
			if r := s.room(i); r > 0 {
				b.room += r
				b.members.items = append(b.members.items, i)
			}
		}
		b.members.init()
		return b
	}
	// Members without the key form their own branch, ordered last.
	groups := map[string][]int{}
	var missing []int
	for _, i := range idx {
		if v, ok := s.spread[level].Value(s.c.members[i]); ok {
			groups[v] = append(groups[v], i)
		} else {
			missing = append(missing, i)
		}
	}
	values := make([]string, 0, len(groups))
	for v := range groups {
		values = append(values, v)
	}
	slices.Sort(values)
	sub := make([][]int, 0, len(values)+1)
	for _, v := range values {
		sub = append(sub, groups[v])
	}
	if len(missing) > 0 {
		sub = append(sub, missing)
	}
	b.children.less = lessBranch
	for ord, g := range sub {
		c := s.build(g, level+1)
		c.ord = ord
		b.count += c.count
		b.load += c.load
		if c.room > 0 {
			b.room += c.room
			b.children.items = append(b.children.items, c)
		}
	}
	b.children.init()
	return b
}

// descend places one replica under b: the best child at every level, the
// best member at the leaf. The chosen child is always the heap top, so only
// the top needs fixing afterwards. Per-member room drops by exactly one per
// placement under every limit, so room bookkeeping is a decrement.
func (s *Service) descend(b *branch) int {
	var i int
	if b.leaf {
		i = b.members.top()
		s.commit(i)
		if s.room(i) == 0 {
			b.members.popTop()
		} else {
			b.members.fixTop()
		}
	} else {
		c := b.children.top()
		i = s.descend(c)
		if c.room == 0 {
			b.children.popTop()
		} else {
			b.children.fixTop()
		}
	}
	b.count++
	b.load++
	b.room--
	return i
}
