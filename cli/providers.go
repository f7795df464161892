package cli

import (
	"context"
	"fmt"
	"sync"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
)

// launchFunc starts (or finds) the plugin that serves a provider.
type launchFunc func(ctx context.Context, name string, cfg plan.ProviderConfig) (plugins.Provider, error)

// providerSource implements plan.ProviderSource: it starts each provider's plugin on first use, calls
// Configure once with the provider's configuration, and hands out the same instance afterwards. A
// provider that fails to start or configure fails every later request with the same error.
type providerSource struct {
	configs map[string]plan.ProviderConfig
	launch  launchFunc
	// secrets resolves {"$secret": …} in provider configurations (credentials) just before Configure.
	secrets plan.SecretResolver

	mu      sync.Mutex
	started map[string]*startedProvider
}

type startedProvider struct {
	once sync.Once
	p    plugins.Provider
	err  error
}

var _ plan.ProviderSource = (*providerSource)(nil)

func newProviderSource(configs map[string]plan.ProviderConfig, launch launchFunc, secrets plan.SecretResolver) *providerSource {
	return &providerSource{configs: configs, launch: launch, secrets: secrets, started: map[string]*startedProvider{}}
}

// Provider returns the configured provider called name.
func (s *providerSource) Provider(ctx context.Context, name string) (plugins.Provider, error) {
	s.mu.Lock()
	sp, ok := s.started[name]
	if !ok {
		sp = &startedProvider{}
		s.started[name] = sp
	}
	s.mu.Unlock()
	sp.once.Do(func() { sp.p, sp.err = s.start(ctx, name) })
	return sp.p, sp.err
}

func (s *providerSource) start(ctx context.Context, name string) (plugins.Provider, error) {
	cfg, ok := s.configs[name]
	if !ok {
		cfg = plan.ProviderConfig{Source: "builtin/" + name}
	}
	p, err := s.launch(ctx, name, cfg)
	if err != nil {
		return nil, err // the planner and the walker name the provider
	}
	config := cfg.Config
	if s.secrets != nil {
		var sds diag.Diagnostics
		config, _, sds = s.secrets.Resolve(config, "providers."+name+".config")
		if sds.HasErrors() {
			return nil, sds.Err()
		}
	}
	diags, err := p.Configure(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("configure: %w", err)
	}
	if diags.HasErrors() {
		for i := range diags {
			if diags[i].Path != "" {
				diags[i].Path = "providers." + name + ".config." + diags[i].Path
			}
		}
		return nil, diags.Err()
	}
	return p, nil
}

// Close closes every provider that was started.
func (s *providerSource) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range s.started {
		if sp.p != nil {
			sp.p.Close()
		}
	}
}
