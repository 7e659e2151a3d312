"""DomainNet (Peng et al., ICCV 2019): 345 classes in 6 domains.

30 single-source pairs, plus leave one domain out with the other five pooled as the source (6 pairs),
the domain-generalization protocol of DomainBed (Gulrajani and Lopez-Paz, ICLR 2021).

Hub dataset ``wltjr1007/DomainNet`` (the WILDS copy): ``train`` and ``test`` splits with columns
``image`` (Image), ``domain`` (string: ``clipart``, ``infograph``, ``painting``, ``quickdraw``,
``real``, ``sketch``), ``category`` (string) and ``y`` (ClassLabel, 345): the label column is ``y``.
A domain is the rows whose ``domain`` column names it; pairs train on the source's train split and
test on the target's test split.

The revision is pinned to the commit whose card lists those columns (its data files are those of
commit 81ade54, where ``y`` is stored as int64 in DomainNet's label order): later commits re-uploaded
the data with a ``label`` column instead of ``y`` and an integer ``domain``. The lower-case domain
strings are those of DomainNet's folder names; no card shows them, so should the data spell them
otherwise, loading stops with a message that lists the values it has.
"""
import tlarena

from tlarena_plugins.suites._grid import every_ordered_pair, leave_one_domain_out, imagenet_suite

# DomainNet's own label order (its image lists' ids), which ``y`` follows.
CLASSES = tuple("""
aircraft_carrier airplane alarm_clock ambulance angel animal_migration ant anvil apple arm asparagus
axe backpack banana bandage barn baseball baseball_bat basket basketball bat bathtub beach bear beard
bed bee belt bench bicycle binoculars bird birthday_cake blackberry blueberry book boomerang bottlecap
bowtie bracelet brain bread bridge broccoli broom bucket bulldozer bus bush butterfly cactus cake
calculator calendar camel camera camouflage campfire candle cannon canoe car carrot castle cat
ceiling_fan cello cell_phone chair chandelier church circle clarinet clock cloud coffee_cup compass
computer cookie cooler couch cow crab crayon crocodile crown cruise_ship cup diamond dishwasher
diving_board dog dolphin donut door dragon dresser drill drums duck dumbbell ear elbow elephant
envelope eraser eye eyeglasses face fan feather fence finger fire_hydrant fireplace firetruck fish
flamingo flashlight flip_flops floor_lamp flower flying_saucer foot fork frog frying_pan garden
garden_hose giraffe goatee golf_club grapes grass guitar hamburger hammer hand harp hat headphones
hedgehog helicopter helmet hexagon hockey_puck hockey_stick horse hospital hot_air_balloon hot_dog
hot_tub hourglass house house_plant hurricane ice_cream jacket jail kangaroo key keyboard knee knife
ladder lantern laptop leaf leg light_bulb lighter lighthouse lightning line lion lipstick lobster
lollipop mailbox map marker matches megaphone mermaid microphone microwave monkey moon mosquito
motorbike mountain mouse moustache mouth mug mushroom nail necklace nose ocean octagon octopus onion
oven owl paintbrush paint_can palm_tree panda pants paper_clip parachute parrot passport peanut pear
peas pencil penguin piano pickup_truck picture_frame pig pillow pineapple pizza pliers police_car pond
pool popsicle postcard potato power_outlet purse rabbit raccoon radio rain rainbow rake remote_control
rhinoceros rifle river roller_coaster rollerskates sailboat sandwich saw saxophone school_bus scissors
scorpion screwdriver sea_turtle see_saw shark sheep shoe shorts shovel sink skateboard skull
skyscraper sleeping_bag smiley_face snail snake snorkel snowflake snowman soccer_ball sock speedboat
spider spoon spreadsheet square squiggle squirrel stairs star steak stereo stethoscope stitches
stop_sign stove strawberry streetlight string_bean submarine suitcase sun swan sweater swing_set sword
syringe table teapot teddy-bear telephone television tennis_racquet tent The_Eiffel_Tower
The_Great_Wall_of_China The_Mona_Lisa tiger toaster toe toilet tooth toothbrush toothpaste tornado
tractor traffic_light train tree triangle trombone truck trumpet t-shirt umbrella underwear van vase
violin washing_machine watermelon waterslide whale wheel windmill wine_bottle wine_glass wristwatch
yoga zebra zigzag
""".split())
DOMAINS = ("clipart", "infograph", "painting", "quickdraw", "real", "sketch")
REVISION = "8f5b9a174c161881d17be113cce1d7fe946ccc52"


def domain(value: str) -> tlarena.HubDataset:
    return tlarena.HubDataset(f"domainnet-{value}", "wltjr1007/DomainNet", CLASSES, revision=REVISION,
                              label_column="y", filter={"domain": value})


PAIRS = every_ordered_pair([domain(value) for value in DOMAINS], "domainnet",
                           "DomainNet: 345 classes across six image styles") + leave_one_domain_out(
    [domain(value) for value in DOMAINS], "domainnet", "DomainNet: five styles pooled → the sixth")

DEFAULTS = (imagenet_suite("domainnet"),)
