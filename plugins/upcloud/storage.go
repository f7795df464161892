package upcloud

import (
	"context"
	"errors"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/request"

	"github.com/provhq/prov/sdk"
)

func storageResource() *sdk.Resource {
	return &sdk.Resource{
		Description: "A blank UpCloud storage (disk). Title, labels and a bigger size change in place; zone, tier " +
			"or a smaller size replace it.",
		Attributes: map[string]*sdk.Attribute{
			"title":   {Type: sdk.String, Required: true, Description: "Title of the storage."},
			"zone":    {Type: sdk.String, Required: true, ForceNew: true, Description: "Zone, e.g. fi-hel1."},
			"size_gb": {Type: sdk.Number, Required: true, Validators: []sdk.Validator{sdk.Between(1, 4096)}, Description: "Size in GB; it can grow in place."},
			"tier":    {Type: sdk.String, Optional: true, Default: "maxiops", ForceNew: true, Validators: []sdk.Validator{sdk.OneOf("maxiops", "standard", "hdd")}, Description: "Storage tier."},
			"labels":  {Type: sdk.MapOf(sdk.String), Optional: true, Validators: []sdk.Validator{labelKeys}, Description: "Labels of the storage."},
			"state":   {Type: sdk.String, Computed: true, Description: "online, maintenance, …"},
		},
		Create: createStorage,
		Read:   readStorage,
		Update: updateStorage,
		Delete: deleteStorage,
		Import: readStorage,
		Plan:   planStorage,
	}
}

func planStorage(_ context.Context, op *sdk.Op, d *sdk.Data) error {
	if o, ok := d.Old("size_gb").(float64); ok && !d.IsNew() && d.IsKnown("size_gb") && d.Float("size_gb") < o {
		d.RequireReplace("size_gb")
	}
	if !d.IsKnown("zone") || !d.IsKnown("tier") || !d.IsKnown("size_gb") {
		return nil
	}
	cost, ok := StorageMonthlyCost(d.String("zone"), d.String("tier"), d.Float("size_gb"))
	if !ok {
		op.Warnf("tier", "the price table of %s has no price for %s storage in %s: no cost estimate", prices.AsOf, d.String("tier"), d.String("zone"))
		return nil
	}
	d.SetMonthlyCost(cost)
	return nil
}

func fillStorage(d *sdk.Data, st *upcloud.StorageDetails) {
	d.SetID(st.UUID)
	d.Set("title", st.Title)
	d.Set("zone", st.Zone)
	d.Set("size_gb", st.Size)
	d.Set("tier", st.Tier)
	setLabels(d, st.Labels)
	d.Set("state", st.State)
}

func createStorage(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	st, err := findStorage(ctx, c, op.ID)
	if err != nil {
		return err
	}
	if st == nil {
		op.Progress(-1, "creating %g GB of %s in %s", d.Float("size_gb"), d.String("tier"), d.String("zone"))
		st, err = c.svc.CreateStorage(ctx, &request.CreateStorageRequest{Size: d.Int("size_gb"), Tier: d.String("tier"),
			Title: d.String("title"), Zone: d.String("zone"), Labels: labelList(d.StringMap("labels"), op.ID)})
		if err != nil {
			return apiError("CreateStorage", err)
		}
	}
	d.SetID(st.UUID)
	if st, err = c.waitStorage(ctx, st.UUID); err != nil {
		return err
	}
	fillStorage(d, st)
	return nil
}

// findStorage returns the storage labelled with operation id, nil when there is none.
func findStorage(ctx context.Context, c *apiClient, id string) (*upcloud.StorageDetails, error) {
	if id == "" {
		return nil, nil
	}
	list, err := c.svc.GetStorages(ctx, &request.GetStoragesRequest{Access: "private",
		Filters: []request.QueryFilter{request.FilterLabel{Label: upcloud.Label{Key: OperationLabel, Value: id}}}})
	if err != nil {
		return nil, apiError("GetStorages", err)
	}
	if len(list.Storages) == 0 {
		return nil, nil
	}
	st, err := c.svc.GetStorageDetails(ctx, &request.GetStorageDetailsRequest{UUID: list.Storages[0].UUID})
	if err != nil {
		return nil, apiError("GetStorageDetails", err)
	}
	return st, nil
}

// waitStorage polls the storage until it is online.
func (c *apiClient) waitStorage(ctx context.Context, uuid string) (*upcloud.StorageDetails, error) {
	var st *upcloud.StorageDetails
	err := c.wait(ctx, "storage "+uuid+" to be online", func(ctx context.Context) (bool, error) {
		var err error
		st, err = c.svc.GetStorageDetails(ctx, &request.GetStorageDetailsRequest{UUID: uuid})
		if err != nil {
			return false, apiError("GetStorageDetails", err)
		}
		if st.State == upcloud.StorageStateError {
			return false, errors.New("storage " + uuid + " is in state error")
		}
		return st.State == upcloud.StorageStateOnline, nil
	})
	return st, err
}

func readStorage(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	if d.ID() == "" {
		st, err := findStorage(ctx, c, op.ID)
		if err != nil || st == nil {
			return errors.Join(err, sdk.ErrNotFound)
		}
		fillStorage(d, st)
		return nil
	}
	st, err := c.svc.GetStorageDetails(ctx, &request.GetStorageDetailsRequest{UUID: d.ID()})
	if errorCode(err) == upcloud.ErrCodeStorageNotFound {
		return sdk.ErrNotFound
	}
	if err != nil {
		return apiError("GetStorageDetails", err)
	}
	fillStorage(d, st)
	return nil
}

func updateStorage(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	cur, err := c.svc.GetStorageDetails(ctx, &request.GetStorageDetailsRequest{UUID: d.ID()})
	if err != nil {
		return apiError("GetStorageDetails", err)
	}
	labels := labelList(d.StringMap("labels"), operationOf(cur.Labels))
	req := &request.ModifyStorageRequest{UUID: d.ID(), Title: d.String("title"), Labels: &labels}
	if d.HasChange("size_gb") {
		req.Size = d.Int("size_gb")
	}
	st, err := c.svc.ModifyStorage(ctx, req)
	if err != nil {
		return apiError("ModifyStorage", err)
	}
	if st, err = c.waitStorage(ctx, st.UUID); err != nil {
		return err
	}
	fillStorage(d, st)
	return nil
}

func deleteStorage(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
	c, err := clientOf(op)
	if err != nil {
		return err
	}
	err = c.svc.DeleteStorage(ctx, &request.DeleteStorageRequest{UUID: d.ID()})
	if err != nil && errorCode(err) != upcloud.ErrCodeStorageNotFound {
		return apiError("DeleteStorage", err)
	}
	return nil
}
