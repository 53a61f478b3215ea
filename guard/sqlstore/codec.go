package sqlstore

import "encoding/json"

// Codec turns a Map's values into the bytes of the value column and back.
// A Codec must be safe for concurrent use. Decode must accept what Encode
// produced in every version of the program still running against the same
// table.
type Codec[V any] interface {
	Encode(v V) ([]byte, error)
	Decode(data []byte) (V, error)
}

// JSON is the default Codec: encoding/json. Values must survive a round
// trip through it (exported fields, no channels or funcs).
func JSON[V any]() Codec[V] { return jsonCodec[V]{} }

type jsonCodec[V any] struct{}

func (jsonCodec[V]) Encode(v V) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec[V]) Decode(data []byte) (V, error) {
	var v V
	err := json.Unmarshal(data, &v)
	return v, err
}
