package state

// Fold applies a journal's records, in order, to a copy of prior and returns the result. prior is not
// changed and may be nil (an empty state). Per record kind:
//
//	Commit, New != nil   the resource is set to New (created, updated, read)
//	Commit, New == nil   the resource is removed (deleted)
//	Fail,   New != nil   the resource is set to New, the partial state the provider returned
//	Fail,   New == nil   the resource is left as it was
//	OutputRecord         the output Name is set to Output (removed when Output is nil)
//	Begin, Intent        nothing: they say what was about to happen, not what happened
//
// Fold does not bump the serial; the caller does (NextSerial) before writing the result. Records are
// applied by reference: the result shares New and Output values with recs.
func Fold(prior *State, recs []Record) *State {
	s := prior.Clone()
	if s == nil {
		s = New()
	}
	for _, rec := range recs {
		switch rec.Kind {
		case Commit:
			s.SetResource(rec.Addr, rec.New)
		case Fail:
			if rec.New != nil {
				s.SetResource(rec.Addr, rec.New)
			}
		case OutputRecord:
			s.SetOutput(rec.Name, rec.Output)
		}
	}
	return s
}
