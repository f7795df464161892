package ec2

import (
	"maps"
	"slices"
	"time"
)

// ModificationCooldown is how long EBS makes a volume wait between two modifications.
const ModificationCooldown = 6 * time.Hour

// modification is an EBS volume modification (ModifyVolume); its state goes modifying → optimizing →
// completed, each intermediate state lasting the fake's transition time. The volume has its new size,
// type and performance from optimizing on, as on EBS.
type modification struct {
	VolumeID           string `xml:"volumeId"`
	ModificationState  string `xml:"modificationState"`
	TargetSize         int    `xml:"targetSize"`
	TargetIops         int    `xml:"targetIops,omitempty"`
	TargetVolumeType   string `xml:"targetVolumeType"`
	TargetThroughput   int    `xml:"targetThroughput,omitempty"`
	OriginalSize       int    `xml:"originalSize"`
	OriginalIops       int    `xml:"originalIops,omitempty"`
	OriginalVolumeType string `xml:"originalVolumeType"`
	OriginalThroughput int    `xml:"originalThroughput,omitempty"`
	Progress           int    `xml:"progress"`
	StartTime          string `xml:"startTime"`
	EndTime            string `xml:"endTime,omitempty"`

	started time.Time
	at      time.Time // when the current state ends
}

// settleModifications moves the modifications whose time has come to their next state.
func (s *Server) settleModifications(now time.Time) {
	for _, m := range s.modifications {
		for m.ModificationState != "completed" && !now.Before(m.at) {
			switch m.ModificationState {
			case "modifying":
				m.ModificationState, m.Progress, m.at = "optimizing", 50, m.at.Add(s.opts.Transition)
				if v := s.volumes[m.VolumeID]; v != nil {
					v.Size, v.VolumeType, v.Iops, v.Throughput = m.TargetSize, m.TargetVolumeType, m.TargetIops, m.TargetThroughput
				}
			case "optimizing":
				m.ModificationState, m.Progress, m.EndTime = "completed", 100, m.at.UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
	}
}

// VolumeModification is a snapshot of a volume's latest modification, for tests.
type VolumeModification struct {
	VolumeID, State, TargetType string
	OriginalSize, TargetSize    int
}

// Modifications returns the latest modification of every volume that has one, sorted by volume id.
func (s *Server) Modifications() []VolumeModification {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var out []VolumeModification
	for _, id := range slices.Sorted(maps.Keys(s.modifications)) {
		m := s.modifications[id]
		out = append(out, VolumeModification{m.VolumeID, m.ModificationState, m.TargetVolumeType, m.OriginalSize, m.TargetSize})
	}
	return out
}

type modifyVolumeResponse struct {
	response
	Modification modification `xml:"volumeModification"`
}

// modifyVolume changes a volume's size, type, IOPS or throughput in place. As on EBS a volume only
// grows, a volume being modified (or modified less than ModificationCooldown ago) cannot be modified
// again, and a request that changes nothing is refused.
func (s *Server) modifyVolume(p params) (responder, error) {
	v, err := s.volume(p)
	if err != nil {
		return nil, err
	}
	if v.Status != "available" && v.Status != "in-use" {
		return nil, badRequest("IncorrectState", "Volume '%s' is in the '%s' state.", v.VolumeID, v.Status)
	}
	if m := s.modifications[v.VolumeID]; m != nil {
		if m.ModificationState != "completed" {
			return nil, badRequest("IncorrectModificationState", "Volume %s cannot be modified in modification state %s",
				v.VolumeID, m.ModificationState)
		}
		if s.now().Before(m.started.Add(ModificationCooldown)) {
			return nil, badRequest("VolumeModificationRateExceeded", "You've reached the maximum modification rate per volume limit. "+
				"Wait at least 6 hours between modifications per EBS volume.")
		}
	}
	m := &modification{VolumeID: v.VolumeID, ModificationState: "modifying", OriginalSize: v.Size, OriginalIops: v.Iops,
		OriginalVolumeType: v.VolumeType, OriginalThroughput: v.Throughput, StartTime: s.timestamp(), started: s.now(),
		at: s.now().Add(s.opts.Transition)}
	if m.TargetSize, err = p.int("Size", v.Size); err != nil {
		return nil, err
	}
	if m.TargetSize < v.Size {
		return nil, badRequest("InvalidParameterValue", "New size cannot be smaller than existing size")
	}
	if m.TargetSize > 16384 {
		return nil, badRequest("InvalidParameterValue", "Volume size must be between 1 and 16384 GiB, got %d", m.TargetSize)
	}
	m.TargetVolumeType = v.VolumeType
	if t := p.str("VolumeType"); t != "" {
		if !validVolumeType(t) {
			return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid.", t)
		}
		m.TargetVolumeType = t
	}
	if m.TargetIops, err = p.int("Iops", v.Iops); err != nil {
		return nil, err
	}
	if m.TargetThroughput, err = p.int("Throughput", v.Throughput); err != nil {
		return nil, err
	}
	if m.TargetVolumeType != v.VolumeType {
		tmp := s.newVolume(v.AvailabilityZone, m.TargetSize, m.TargetVolumeType, nil) // the new type's default performance
		delete(s.volumes, tmp.VolumeID)
		if !p.has("Iops") {
			m.TargetIops = tmp.Iops
		}
		if !p.has("Throughput") {
			m.TargetThroughput = tmp.Throughput
		}
	} else if m.TargetVolumeType == "gp2" {
		m.TargetIops = max(100, min(16000, 3*m.TargetSize))
	}
	if m.TargetSize == v.Size && m.TargetVolumeType == v.VolumeType && m.TargetIops == v.Iops && m.TargetThroughput == v.Throughput {
		return nil, badRequest("InvalidParameterCombination", "New size, type, iops and throughput are the same as the existing values for volume %s", v.VolumeID)
	}
	s.modifications[v.VolumeID] = m
	return &modifyVolumeResponse{Modification: *m}, nil
}

type describeModificationsResponse struct {
	response
	Modifications []modification `xml:"volumeModificationSet>item"`
}

// describeVolumesModifications reports the latest modification of the volumes asked for (every
// modified volume when none is named); a named volume that was never modified is an error, as on EBS.
func (s *Server) describeVolumesModifications(p params) (responder, error) {
	ids, fs := p.list("VolumeId"), filters(p)
	for _, id := range ids {
		if s.volumes[id] == nil {
			return nil, badRequest("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
		if s.modifications[id] == nil {
			return nil, badRequest("InvalidVolumeModification.NotFound", "Modification for volume '%s' does not exist.", id)
		}
	}
	resp := &describeModificationsResponse{}
	for _, id := range slices.Sorted(maps.Keys(s.modifications)) {
		m := s.modifications[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) {
			switch name {
			case "volume-id":
				return []string{m.VolumeID}, true
			case "modification-state":
				return []string{m.ModificationState}, true
			case "target-volume-type":
				return []string{m.TargetVolumeType}, true
			case "original-volume-type":
				return []string{m.OriginalVolumeType}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			resp.Modifications = append(resp.Modifications, *m)
		}
	}
	return resp, nil
}
