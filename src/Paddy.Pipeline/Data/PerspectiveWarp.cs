using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

/// <summary>
/// fastai's Warp (vision/augment.py): not part of the affine matrix but a perspective transform applied to the
/// sampling grid after affine_grid. The corners (-1,-1), (-1,1), (1,-1), (1,1) move inwards or outwards by the
/// drawn magnitudes; the homography maps each moved corner back to its original position.
/// </summary>
public static class PerspectiveWarp
{
    public static readonly (double X, double Y)[] OriginalCorners = [(-1, -1), (-1, 1), (1, -1), (1, 1)];

    /// <summary>_WarpCoord's target points for the drawn magnitudes xMagnitude (x_t) and yMagnitude (y_t).</summary>
    public static (double X, double Y)[] TargetCorners(double xMagnitude, double yMagnitude) =>
    [
        (-1 - yMagnitude, -1 - xMagnitude),
        (-1 + yMagnitude, 1 + xMagnitude),
        (1 + yMagnitude, -1 + xMagnitude),
        (1 - yMagnitude, 1 - xMagnitude),
    ];

    /// <summary>
    /// find_coeffs(orig, targ): the 3x3 homography H (H[2,2] = 1) with H(targ_i) = orig_i, from the 8x8 linear
    /// system fastai solves.
    /// </summary>
    public static double[,] Homography(double xMagnitude, double yMagnitude)
    {
        var from = TargetCorners(xMagnitude, yMagnitude);
        var to = OriginalCorners;
        var a = new double[8, 9];
        for (var i = 0; i < 4; i++)
        {
            var (x, y) = from[i];
            var (u, v) = to[i];
            double[] rowU = [x, y, 1, 0, 0, 0, -u * x, -u * y, u];
            double[] rowV = [0, 0, 0, x, y, 1, -v * x, -v * y, v];
            for (var j = 0; j < 9; j++)
            {
                a[2 * i, j] = rowU[j];
                a[2 * i + 1, j] = rowV[j];
            }
        }
        var h = SolveAugmented(a);
        return new double[,] { { h[0], h[1], h[2] }, { h[3], h[4], h[5] }, { h[6], h[7], 1 } };
    }

    /// <summary>Applies one homography per image to a grid [B, H, W, 2] of (x, y); apply_perspective.</summary>
    public static Tensor Apply(Tensor grid, Tensor homographies)
    {
        using var scope = NewDisposeScope();
        var shape = grid.shape;
        var points = grid.reshape(shape[0], -1, 2);
        var linear = homographies.slice(2, 0, 2, 1).transpose(1, 2);          // [B, 2, 3]
        var offset = homographies.select(2, 2).unsqueeze(1);                  // [B, 1, 3]
        var mapped = points.matmul(linear) + offset;                          // [B, P, 3]
        var warped = mapped.slice(2, 0, 2, 1) / mapped.slice(2, 2, 3, 1);
        return warped.reshape(shape).MoveToOuterDisposeScope();
    }

    /// <summary>Gauss-Jordan elimination with partial pivoting on an n x (n+1) augmented matrix.</summary>
    private static double[] SolveAugmented(double[,] a)
    {
        var n = a.GetLength(0);
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (Math.Abs(a[pivot, col]) < 1e-12) throw new InvalidOperationException("The warp's corner system is singular.");
            for (var j = 0; j <= n; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            for (var r = 0; r < n; r++)
            {
                if (r == col) continue;
                var factor = a[r, col] / a[col, col];
                for (var j = col; j <= n; j++) a[r, j] -= factor * a[col, j];
            }
        }
        var x = new double[n];
        for (var i = 0; i < n; i++) x[i] = a[i, n] / a[i, i];
        return x;
    }
}
