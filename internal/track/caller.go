package track

// SiteOfPCs returns the Site of return addresses captured with CallerPCs:
// pc0 the call site, pc1 and pc2 the frames around it, which rendering uses
// to step over compiler-generated wrappers and tether's own frames.
func SiteOfPCs(pc0, pc1, pc2 uintptr) Site {
	var s Site
	s.pcs[0], s.pcs[1], s.pcs[2] = pc0, pc1, pc2
	return s
}
