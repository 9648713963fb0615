// Chi-square p-values, shared by the benchmarks' output checks (lib/check.mjs) and the
// statistical tests of the JavaScript API (__test__/*.spec.ts, through statistics.d.mts).

/** ln Gamma(z), z > 0: shift to z >= 15, then Stirling's series. */
function lnGamma(z) {
  let shift = 0
  while (z < 15) {
    shift += Math.log(z)
    z += 1
  }
  const inv = 1 / z
  const inv2 = inv * inv
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - shift
}

/** The regularized upper incomplete gamma Q(a, x): series for x < a + 1, else Lentz's continued fraction. */
function gammaQ(a, x) {
  if (x <= 0) return 1
  const logPrefactor = a * Math.log(x) - x - lnGamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break
    }
    return 1 - Math.exp(logPrefactor) * sum
  }
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return Math.exp(logPrefactor) * h
}

/** The p-value of a chi-square statistic with `df` degrees of freedom. */
export function chiSquareP(stat, df) {
  return gammaQ(df / 2, stat / 2)
}
