/** The p-value of a chi-square statistic `stat` with `df` degrees of freedom (its upper tail). */
export function chiSquareP(stat: number, df: number): number
