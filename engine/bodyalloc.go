// This file owns where large response bodies are read to. By default a body is Go memory;
// a host layer that must hand the body to C (libhc's exports) installs a BodyAllocator, so
// that a body with a known length is read from the socket straight into the memory that
// is returned, without a Go allocation, a garbage collection of it, or a copy.

package engine

// BodyAllocator provides memory for response bodies.
type BodyAllocator interface {
	// Alloc returns a buffer of exactly n bytes, or nil to use Go memory.
	Alloc(n int) []byte
	// Free releases a buffer from Alloc whose body will not be delivered.
	Free(b []byte)
}

// minExternalBody is the smallest body read into allocator memory: below it a Go buffer
// and one copy cost less than the allocator's calls.
const minExternalBody = 32 << 10

// SetBodyAllocator installs a (must be called before any request). A Result whose
// BodyExternal is set, or a BackgroundResult whose ContentExternal is set, owns its body:
// the receiver delivers it or gives it to a.Free.
func (e *Engine) SetBodyAllocator(a BodyAllocator) { e.alloc = a }

// discardBody frees an allocator body that will not be delivered.
func (e *Engine) discardBody(b []byte, external bool) {
	if external && e.alloc != nil && b != nil {
		e.alloc.Free(b)
	}
}
