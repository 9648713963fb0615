// Two threads against one, on calls of 10^6 draws or more (the `threads` option; calls of
// 65,536 outputs or more are split into blocks of 4,096 spread over the pool). Before timing,
// the two must give the same output for the same call (the output does not depend on the
// thread count) and fit the proposal. Reported: draws/s of each and the speed-up, and the
// speed-up measured in alternating rounds (lib/paired.mjs).
import { expectFit, expectNoPositives, uniformExclusionExpected } from './lib/check.mjs'
import { loadAdjacency, popularityWeights, shuffledUsers } from './lib/data.mjs'
import { QUICK, compare, negsample } from './lib/harness.mjs'
import { describePaired, pairedRatio } from './lib/paired.mjs'

const { Interactions, Sampler } = negsample()

function pair({ title, train, options, users, k, check }) {
  const one = new Sampler(train, { ...options, seed: 9n, threads: 1 })
  const two = new Sampler(train, { ...options, seed: 9n, threads: 2 })
  const draws = users.length * k
  const out = new Int32Array(draws)
  compare({
    title,
    note: `kernel ${one.kernel}; ${draws.toLocaleString('en-US')} draws per call`,
    contenders: [
      {
        name: 'negsample, 2 threads',
        draws,
        verify: () => {
          // Both samplers are at call 0: the same call must give the same output.
          const a = one.negatives(users, k)
          const b = two.negatives(users, k)
          for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`output ${i} differs: 1 thread ${a[i]}, 2 threads ${b[i]}`)
          return `identical to 1 thread; ${check(b)}`
        },
        run: () => two.negativesInto(users, k, out),
      },
      { name: 'negsample, 1 thread', draws, verify: () => check(one.negatives(users, k)), run: () => one.negativesInto(users, k, out) },
    ],
  })
  const paired = pairedRatio(
    () => one.negativesInto(users, k, out),
    () => two.negativesInto(users, k, out),
  )
  console.log(describePaired('2 threads over 1 thread', paired, 1.8))
}

for (const [numItems, draws] of [[100_000, 1_000_000], [100_000, 10_000_000], [QUICK ? 1_000_000 : 10_000_000, 1_000_000]]) {
  const weights = popularityWeights(numItems, 42)
  pair({
    title: `2 threads vs 1: popularity^0.75 over ${numItems.toLocaleString('en-US')} items, ${draws.toLocaleString('en-US')} draws per call`,
    train: Interactions.fromCoo(new Int32Array(0), new Int32Array(0), { numUsers: 1, numItems }),
    options: { weights },
    users: Int32Array.of(0),
    k: draws,
    check: (drawn) => expectFit('draws', drawn, weights, 64),
  })
}

const ml = loadAdjacency('ml-1m')
if (ml === null) {
  console.log('\n### 2 threads vs 1 on ml-1m: skipped, ../shared/data/ml-1m/train.txt is absent')
} else {
  const train = Interactions.fromCoo(ml.users, ml.items, { numUsers: ml.numUsers, numItems: ml.numItems })
  const users = shuffledUsers(ml.users, 1)
  const indptr = train.indptr()
  const indices = train.indices()
  const expected = uniformExclusionExpected(users, 4, indptr, indices, ml.numItems)
  pair({
    title: '2 threads vs 1: negatives with exclusion on ml-1m, 4 per training positive',
    train,
    options: { proposal: 'uniform' },
    users,
    k: 4,
    check: (drawn) => `${expectNoPositives('negsample', users, 4, drawn, indptr, indices)}; ${expectFit('negsample', drawn, expected, 64)}`,
  })
}
