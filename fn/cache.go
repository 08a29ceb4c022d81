package fn

import (
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// A composition is what the function composes for one DataVisualisation:
// everything but readiness, which it reads afresh on every call.
type composition struct {
	mode      mode
	resources map[resource.Name]*structpb.Struct
	objects   map[resource.Name]objectRef
	uid       string
	viz       *structpb.Struct
	url       string
	start     start
	rollout   rollout
}

// maxCachedCompositions bounds the cache: a composition takes about 36 KiB
// of heap, so a full cache about 4.5 MiB.
const maxCachedCompositions = 128

// A compositionCache remembers compositions by what they depend on, so that
// the many calls Crossplane makes for an unchanged DataVisualisation (on
// every change of its Objects, and at least every minute) do not build the
// same manifests again. The responses share the cached structs and only read
// them.
type compositionCache struct {
	mu      sync.Mutex
	entries map[string]*composition
}

// cacheKey identifies what a composition depends on: the DataVisualisation's
// uid and generation (which changes with its spec; its name and namespace
// never change), the step's Input, and the resource version of the settings
// ConfigMap that the function read, if any. The function's environment is
// fixed for the life of the process. A request without a uid or generation,
// as from crossplane render, has no key and is never cached.
func cacheKey(req *fnv1.RunFunctionRequest, settingsVersion string) (string, bool) {
	meta := req.GetObserved().GetComposite().GetResource().GetFields()["metadata"].GetStructValue().GetFields()
	uid := meta["uid"].GetStringValue()
	generation, ok := meta["generation"].GetKind().(*structpb.Value_NumberValue)
	if uid == "" || !ok {
		return "", false
	}
	input, err := proto.MarshalOptions{Deterministic: true}.Marshal(req.GetInput())
	if err != nil {
		return "", false
	}
	return uid + "/" + strconv.FormatFloat(generation.NumberValue, 'f', -1, 64) + "/" + settingsVersion + "/" + string(input), true
}

func (c *compositionCache) get(key string) (*composition, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	comp, ok := c.entries[key]
	return comp, ok
}

func (c *compositionCache) put(key string, comp *composition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]*composition, maxCachedCompositions)
	}
	if len(c.entries) >= maxCachedCompositions {
		for k := range c.entries { // Evict one at random.
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = comp
}
