package bundle

// Limits bound what a bundle may hold, so a hostile or broken bundle (a
// decompression bomb, a header claiming terabytes) is refused before it
// fills a disk or the memory. Create honours them too, so every bundle it
// makes can be opened.
type Limits struct {
	MaxEntry int64 // bytes in one file
	MaxTotal int64 // bytes in all files together, uncompressed
	MaxFiles int   // number of files
}

// DefaultLimits are the limits used unless a caller sets others.
var DefaultLimits = Limits{MaxEntry: 64 << 20, MaxTotal: 1 << 30, MaxFiles: 10000}

// maxManifest bounds manifest.json, which is read into memory.
const maxManifest = 4 << 20

// streamSlack is what the uncompressed stream may hold beyond the files'
// contents: tar headers, padding and the end-of-archive blocks.
const streamSlack = 16 << 20

func (l Limits) orDefault() Limits {
	if l == (Limits{}) {
		return DefaultLimits
	}
	return l
}
