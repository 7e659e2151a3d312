"""Built-in transfer methods, registered through the `tlarena` entry-point group like any plugin."""
import tlarena

from tlarena_plugins.methods.adabn import AdaBN
from tlarena_plugins.methods.bitfit import BitFit
from tlarena_plugins.methods.bnm import BNM
from tlarena_plugins.methods.cdan import CDAN, CDANE
from tlarena_plugins.methods.coral import DeepCORAL
from tlarena_plugins.methods.coral_dg import CORALDG
from tlarena_plugins.methods.coral_linear import ShallowCORAL
from tlarena_plugins.methods.dan import DAN
from tlarena_plugins.methods.dann import DANN
from tlarena_plugins.methods.erm import ERM
from tlarena_plugins.methods.fine_tune import FineTune
from tlarena_plugins.methods.fixmatch import FixMatch
from tlarena_plugins.methods.group_dro import GroupDRO
from tlarena_plugins.methods.importance_resampling import ImportanceResampling
from tlarena_plugins.methods.importance_weighting import ImportanceWeighting
from tlarena_plugins.methods.jan import JAN
from tlarena_plugins.methods.l2_sp import L2SP
from tlarena_plugins.methods.linear_probe import LinearProbe
from tlarena_plugins.methods.lwf import LwF
from tlarena_plugins.methods.lp_ft import LPFT
from tlarena_plugins.methods.mcc import MCC
from tlarena_plugins.methods.mdd import MDD
from tlarena_plugins.methods.mixstyle import MixStyle
from tlarena_plugins.methods.partial_fine_tune import PartialFineTune
from tlarena_plugins.methods.progressive_net import ProgressiveNet
from tlarena_plugins.methods.pseudo_label import PseudoLabel
from tlarena_plugins.methods.scratch import Scratch
from tlarena_plugins.methods.shot import SHOT
from tlarena_plugins.methods.source_only import SourceOnly
from tlarena_plugins.methods.task_fusion import TaskFusion
from tlarena_plugins.methods.tca import TCA
from tlarena_plugins.methods.tent import TENT
from tlarena_plugins.methods.tradaboost import TrAdaBoost

METHODS = (SourceOnly, LinearProbe, FineTune, Scratch, LPFT, L2SP, PartialFineTune, BitFit,
           DANN, CDAN, CDANE, MCC, DeepCORAL, BNM, DAN, JAN, MDD,
           ShallowCORAL, TCA, ImportanceWeighting, ImportanceResampling, TrAdaBoost,
           PseudoLabel, FixMatch, SHOT, AdaBN, TENT,
           TaskFusion, LwF, ProgressiveNet,
           ERM, MixStyle, CORALDG, GroupDRO)


@tlarena.hookimpl
def register_methods(register):
    for method in METHODS:
        register(method)
