package replay_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/modelium/brain/recommend"
	"github.com/modelium/brain/replay"
	"github.com/modelium/brain/rules"
)

// A model with requests in minutes 1, 4 and 9, under the seed's policy with a 2-minute threshold:
// minute 4 finds it still resident (minute 3 is within 2 minutes of minute 1), minute 9 does not.
func ExampleRun() {
	const csv = "HashFunction,HashApp,HashOwner,minute_1,minute_2,minute_3,minute_4,minute_5,minute_6,minute_7,minute_8,minute_9\n" +
		"llama,app,owner,3,0,0,1,0,0,0,0,2\n"
	tr, err := replay.ReadTrace("example.csv", strings.NewReader(csv), replay.Rows{})
	if err != nil {
		panic(err)
	}
	policy, err := rules.NewUnloadPolicy(rules.UnloadPolicy{EvictAfterIdle: 2 * time.Minute, MinQPS: 0.1})
	if err != nil {
		panic(err)
	}
	r, err := replay.Run(tr, replay.Config{Policy: recommend.NewFixedPolicy(policy), DecisionInterval: 10 * time.Second})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d cold starts, %d warm, %d idle model-minutes, %d unloads\n", r.ColdStarts, r.WarmStarts, r.IdleModelMinutes, r.Unloads)
	// Output: 2 cold starts, 1 warm, 4 idle model-minutes, 1 unloads
}
