package ec2

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

type attachment struct {
	VolumeID            string `xml:"volumeId"`
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`

	at time.Time // when attaching or detaching ends
}

// volume is an EBS volume; Status is creating, available, in-use or deleting.
type volume struct {
	VolumeID         string        `xml:"volumeId"`
	Size             int           `xml:"size"`
	SnapshotID       string        `xml:"snapshotId"`
	AvailabilityZone string        `xml:"availabilityZone"`
	Status           string        `xml:"status"`
	CreateTime       string        `xml:"createTime"`
	Attachments      []*attachment `xml:"attachmentSet>item"`
	Tags             []tag         `xml:"tagSet>item"`
	VolumeType       string        `xml:"volumeType"`
	Iops             int           `xml:"iops,omitempty"`
	Throughput       int           `xml:"throughput,omitempty"`
	Encrypted        bool          `xml:"encrypted"`

	at    time.Time // when creating ends
	token string    // ClientToken of CreateVolume
}

// Volume is a snapshot of one volume of the fake, for tests.
type Volume struct {
	ID, Status, Type, Zone, AttachedTo string
	Size                               int
	Tags                               map[string]string
}

// Volumes returns the volumes the fake has, sorted by id.
func (s *Server) Volumes() []Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var out []Volume
	for _, v := range s.sortedVolumes() {
		x := Volume{ID: v.VolumeID, Status: v.Status, Type: v.VolumeType, Zone: v.AvailabilityZone, Size: v.Size, Tags: map[string]string{}}
		if len(v.Attachments) > 0 {
			x.AttachedTo = v.Attachments[0].InstanceID
		}
		for _, t := range v.Tags {
			x.Tags[t.Key] = t.Value
		}
		out = append(out, x)
	}
	return out
}

func (s *Server) sortedVolumes() []*volume {
	out := make([]*volume, 0, len(s.volumes))
	for _, id := range slices.Sorted(maps.Keys(s.volumes)) {
		out = append(out, s.volumes[id])
	}
	return out
}

// attached returns v's attachment to instance id, nil when it has none.
func (v *volume) attached(id string) *attachment {
	for _, a := range v.Attachments {
		if a.InstanceID == id {
			return a
		}
	}
	return nil
}

func validVolumeType(t string) bool {
	return slices.Contains([]string{"gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"}, t)
}

func (s *Server) newVolume(zone string, size int, typ string, tags []tag) *volume {
	v := &volume{VolumeID: newID("vol"), Size: size, AvailabilityZone: zone, Status: "available", CreateTime: s.timestamp(),
		Tags: tags, VolumeType: typ}
	switch typ {
	case "gp3":
		v.Iops, v.Throughput = 3000, 125
	case "gp2":
		v.Iops = max(100, min(16000, 3*size))
	}
	s.volumes[v.VolumeID] = v
	return v
}

// settleVolumes finishes the volume transitions whose time has come.
func (s *Server) settleVolumes(now time.Time) {
	s.settleModifications(now)
	for _, v := range s.volumes {
		if v.Status == "creating" && !now.Before(v.at) {
			v.Status = "available"
		}
		if v.Status == "deleting" && !now.Before(v.at) {
			delete(s.volumes, v.VolumeID)
			delete(s.modifications, v.VolumeID)
			continue
		}
		for _, a := range v.Attachments {
			switch {
			case a.Status == "attaching" && !now.Before(a.at):
				a.Status = "attached"
			case a.Status == "detaching" && !now.Before(a.at):
				v.Attachments = slices.DeleteFunc(v.Attachments, func(x *attachment) bool { return x == a })
				if len(v.Attachments) == 0 {
					v.Status = "available"
				}
			}
		}
	}
}

func (s *Server) volume(p params) (*volume, error) {
	if err := p.require("VolumeId"); err != nil {
		return nil, err
	}
	id := p.str("VolumeId")
	if !strings.HasPrefix(id, "vol-") {
		return nil, badRequest("InvalidParameterValue", "Invalid id: \"%s\" (expecting \"vol-...\")", id)
	}
	v := s.volumes[id]
	if v == nil {
		return nil, badRequest("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	return v, nil
}

type createVolumeResponse struct {
	response
	volume
}

func (s *Server) createVolume(p params) (responder, error) {
	if err := p.require("AvailabilityZone"); err != nil {
		return nil, err
	}
	zone := p.str("AvailabilityZone")
	if !slices.ContainsFunc(s.subnets, func(sn *subnet) bool { return sn.AvailabilityZone == zone }) {
		return nil, badRequest("InvalidParameterValue", "Invalid availability zone: [%s]", zone)
	}
	typ := p.str("VolumeType")
	if typ == "" {
		typ = "gp2"
	}
	if !validVolumeType(typ) {
		return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid.", typ)
	}
	size, err := p.int("Size", 0)
	if err != nil {
		return nil, err
	}
	if size < 1 || size > 16384 {
		return nil, badRequest("InvalidParameterValue", "Volume size must be between 1 and 16384 GiB, got %d", size)
	}
	tags, err := tagSpecs(p, "volume")
	if err != nil {
		return nil, err
	}
	if token := p.str("ClientToken"); token != "" {
		for _, v := range s.volumes {
			if v.token == token {
				return &createVolumeResponse{volume: *v}, nil
			}
		}
	}
	v := s.newVolume(zone, size, typ, tags)
	v.Encrypted = p.bool("Encrypted")
	if iops, err := p.int("Iops", 0); err != nil {
		return nil, err
	} else if iops > 0 {
		v.Iops = iops
	}
	if tp, err := p.int("Throughput", 0); err != nil {
		return nil, err
	} else if tp > 0 {
		v.Throughput = tp
	}
	v.Status, v.at, v.token = "creating", s.now().Add(s.opts.Transition), p.str("ClientToken")
	return &createVolumeResponse{volume: *v}, nil
}

type describeVolumesResponse struct {
	response
	Volumes []volume `xml:"volumeSet>item"`
}

func (s *Server) describeVolumes(p params) (responder, error) {
	ids, fs := p.list("VolumeId"), filters(p)
	for _, id := range ids {
		if s.volumes[id] == nil {
			return nil, badRequest("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	resp := &describeVolumesResponse{}
	for _, v := range s.sortedVolumes() {
		if len(ids) > 0 && !slices.Contains(ids, v.VolumeID) {
			continue
		}
		ok, err := match(fs, func(name string) ([]string, bool) {
			var att []string
			for _, a := range v.Attachments {
				switch name {
				case "attachment.instance-id":
					att = append(att, a.InstanceID)
				case "attachment.device":
					att = append(att, a.Device)
				case "attachment.status":
					att = append(att, a.Status)
				}
			}
			switch name {
			case "volume-id":
				return []string{v.VolumeID}, true
			case "status":
				return []string{v.Status}, true
			case "availability-zone":
				return []string{v.AvailabilityZone}, true
			case "volume-type":
				return []string{v.VolumeType}, true
			case "size":
				return []string{strconv.Itoa(v.Size)}, true
			case "client-token":
				return []string{v.token}, true
			case "attachment.instance-id", "attachment.device", "attachment.status":
				return att, true
			}
			return tagFields(v.Tags, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			resp.Volumes = append(resp.Volumes, *v)
		}
	}
	return resp, nil
}

func (s *Server) deleteVolume(p params) (responder, error) {
	v, err := s.volume(p)
	if err != nil {
		return nil, err
	}
	if v.Status == "in-use" || len(v.Attachments) > 0 {
		return nil, badRequest("VolumeInUse", "Volume %s is currently attached to %s", v.VolumeID, v.Attachments[0].InstanceID)
	}
	if v.Status != "deleting" {
		v.Status, v.at = "deleting", s.now().Add(s.opts.Transition)
	}
	return &returnResponse{Return: true}, nil
}

type attachResponse struct {
	response
	attachment
}

func (s *Server) attachVolume(p params) (responder, error) {
	if err := p.require("Device", "InstanceId", "VolumeId"); err != nil {
		return nil, err
	}
	v, err := s.volume(p)
	if err != nil {
		return nil, err
	}
	id := p.str("InstanceId")
	in := s.instances[id]
	if in == nil {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	if in.State.Name != Running && in.State.Name != Stopped {
		return nil, badRequest("IncorrectState", "Instance '%s' is not 'running' or 'stopped'.", id)
	}
	if v.Status != "available" {
		return nil, badRequest("IncorrectState", "vol '%s' is not 'available'.", v.VolumeID)
	}
	if v.AvailabilityZone != in.Placement.AvailabilityZone {
		return nil, badRequest("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", v.VolumeID, id)
	}
	dev := p.str("Device")
	for _, other := range s.volumes {
		if a := other.attached(id); a != nil && a.Device == dev {
			return nil, badRequest("InvalidParameterValue", "Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
		}
	}
	a := &attachment{VolumeID: v.VolumeID, InstanceID: id, Device: dev, Status: "attaching", AttachTime: s.timestamp(),
		at: s.now().Add(s.opts.Transition)}
	v.Attachments, v.Status = []*attachment{a}, "in-use"
	return &attachResponse{attachment: *a}, nil
}

func (s *Server) detachVolume(p params) (responder, error) {
	v, err := s.volume(p)
	if err != nil {
		return nil, err
	}
	if len(v.Attachments) == 0 {
		return nil, badRequest("IncorrectState", "Volume '%s' is in the 'available' state.", v.VolumeID)
	}
	a := v.Attachments[0]
	if id := p.str("InstanceId"); id != "" && id != a.InstanceID {
		return nil, badRequest("InvalidAttachment.NotFound", "Volume '%s' is not attached to instance '%s'", v.VolumeID, id)
	}
	if a.Device == s.instances[a.InstanceID].RootDeviceName && s.instances[a.InstanceID].State.Name != Stopped {
		return nil, badRequest("OperationNotPermitted", "Unable to detach root volume '%s' from instance '%s'", v.VolumeID, a.InstanceID)
	}
	if a.Status != "detaching" {
		a.Status, a.at = "detaching", s.now().Add(s.opts.Transition)
	}
	return &attachResponse{attachment: *a}, nil
}
