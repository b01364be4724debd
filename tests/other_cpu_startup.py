# make test-other-cpu copies this file into an IPython startup folder: the notebooks'
# kernels then compute convolutions without oneDNN (NNPACK or PyTorch's own kernels
# instead), another summation order, as on machines where oneDNN is absent.
import torch

torch.backends.mkldnn.enabled = False
