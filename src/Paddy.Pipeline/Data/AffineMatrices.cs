namespace Paddy.Pipeline.Data;

/// <summary>
/// fastai's per-image affine matrices (vision/augment.py), as 3x3 row-major arrays acting on the output grid's
/// normalised coordinates (x, y in [-1, 1]): for each output pixel the matrix gives where to sample the input.
/// Pure functions, so tests compare them with matrices worked out by hand.
/// </summary>
public static class AffineMatrices
{
    public static double[,] Identity() => new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };

    /// <summary>flip_mat: x -> -x when flipped.</summary>
    public static double[,] Flip(bool flipped) => new double[,] { { flipped ? -1 : 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };

    /// <summary>rotate_mat: [[cos t, sin t, 0], [-sin t, cos t, 0]] with t in radians.</summary>
    public static double[,] Rotation(double degrees)
    {
        var t = degrees * Math.PI / 180;
        return new double[,] { { Math.Cos(t), Math.Sin(t), 0 }, { -Math.Sin(t), Math.Cos(t), 0 }, { 0, 0, 1 } };
    }

    /// <summary>zoom_mat: s = 1/zoom samples a smaller window, its centre moved by (1-s)(2 pct - 1) on each axis.</summary>
    public static double[,] Zoom(double zoom, double columnPct, double rowPct)
    {
        var s = 1 / zoom;
        return new double[,] { { s, 0, (1 - s) * (2 * columnPct - 1) }, { 0, s, (1 - s) * (2 * rowPct - 1) }, { 0, 0, 1 } };
    }

    /// <summary>fastai composes left to right: identity @ flip @ rotate @ zoom.</summary>
    public static double[,] Compose(params double[][,] matrices)
    {
        var result = Identity();
        foreach (var m in matrices) result = Multiply(result, m);
        return result;
    }

    /// <summary>
    /// _prepare_mat: the grid's x and y are normalised by width and height separately, so a rotation must have its
    /// off-diagonal terms scaled by the aspect (m01 *= h/w, m10 *= w/h) to stay a rotation in pixels. Returns the 2x3
    /// matrix affine_grid takes.
    /// </summary>
    public static double[,] ForImage(double[,] matrix, int height, int width) => new double[,]
    {
        { matrix[0, 0], matrix[0, 1] * height / width, matrix[0, 2] },
        { matrix[1, 0] * width / height, matrix[1, 1], matrix[1, 2] },
    };

    public static double[,] Multiply(double[,] a, double[,] b)
    {
        var result = new double[3, 3];
        for (var i = 0; i < 3; i++)
        for (var j = 0; j < 3; j++)
        for (var k = 0; k < 3; k++)
            result[i, j] += a[i, k] * b[k, j];
        return result;
    }
}
