/* search_anneal (method.h): the one temperature schedule of the methods. */
#include <math.h>

#include "method.h"

double search_anneal(double start, double end, int epoch, int nepochs, int linear) {
    if (nepochs <= 1 || epoch <= 0) return start;
    if (epoch >= nepochs - 1) return end;
    double r = (double)epoch / (double)(nepochs - 1);
    return linear ? start + r * (end - start) : start * pow(end / start, r);
}
