package scheduler

// minHeap is a binary min-heap specialised for the scheduler's use: keys
// only ever grow (a placement adds a replica), so the top is re-sifted down
// or removed, never sifted up. That avoids container/heap's interface calls
// on the hot path.
type minHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *minHeap[T]) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *minHeap[T]) len() int { return len(h.items) }

func (h *minHeap[T]) top() T { return h.items[0] }

// fixTop restores order after the top's key grew.
func (h *minHeap[T]) fixTop() { h.down(0) }

// popTop removes the top.
func (h *minHeap[T]) popTop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	if n > 0 {
		h.down(0)
	}
}

func (h *minHeap[T]) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}
